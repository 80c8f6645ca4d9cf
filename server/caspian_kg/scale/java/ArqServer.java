// `caspian-kg bench`'s Jena peer: Apache Jena ARQ over an in-memory dataset behind the JDK's own
// HTTP server (com.sun.net.httpserver), not Fuseki. Built by scale/jena.py (javac, once per bench
// work directory) against Debian's libapache-jena-java jars.
//
//   java -cp <jars>:<classes> ArqServer PORT FILE.nq [THREADS]
//
// Loads the N-Quads file into a transactional in-memory dataset (TIM): each graph of the file is a
// named graph, and the default graph is their merge, copied in at load (what rdflib-endpoint's
// default graph is, and what Oxigraph server is asked for with the Protocol dataset). Then it
// answers the SPARQL Protocol's GET /sparql?query=... (default-graph-uri and named-graph-uri, when
// sent, choose the dataset as the Protocol says) on a pool of THREADS threads (8 by default):
// SELECT and ASK as SPARQL JSON results, CONSTRUCT and DESCRIBE as N-Triples; 400 on a syntax
// error, 500 on any other failure, and each query is cut at 30 s (the bench's own deadline).
// It listens only once the data is loaded, so the first answer marks the end of the load.

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.jena.graph.Node;
import org.apache.jena.graph.NodeFactory;
import org.apache.jena.query.DatasetFactory;
import org.apache.jena.query.Query;
import org.apache.jena.query.QueryExecution;
import org.apache.jena.query.QueryFactory;
import org.apache.jena.query.QueryParseException;
import org.apache.jena.query.ResultSetFormatter;
import org.apache.jena.query.Syntax;
import org.apache.jena.riot.Lang;
import org.apache.jena.riot.RDFDataMgr;
import org.apache.jena.sparql.core.DatasetGraph;
import org.apache.jena.sparql.core.DatasetGraphFactory;
import org.apache.jena.sparql.core.DynamicDatasets;
import org.apache.jena.sparql.core.Quad;
import org.apache.jena.system.Txn;

public final class ArqServer {
    private static final long TIMEOUT_MS = 30_000;

    private ArqServer() {}

    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(args[0]);
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        DatasetGraph data = load(args[1]);
        HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 64);
        http.createContext("/sparql", exchange -> {
            try (exchange) {
                answer(data, exchange);
            }
        });
        http.setExecutor(Executors.newFixedThreadPool(threads));
        http.start();
    }

    static DatasetGraph load(String file) {
        DatasetGraph data = DatasetGraphFactory.createTxnMem();
        Txn.executeWrite(data, () -> {
            RDFDataMgr.read(data, file, Lang.NQUADS);
            List<Quad> named = new ArrayList<>();
            data.find(Node.ANY, Node.ANY, Node.ANY, Node.ANY).forEachRemaining(named::add);
            for (Quad q : named) {
                if (!q.isDefaultGraph()) {
                    data.getDefaultGraph().add(q.asTriple());
                }
            }
        });
        return data;
    }

    static void answer(DatasetGraph data, HttpExchange exchange) throws IOException {
        if (!"GET".equals(exchange.getRequestMethod())) {
            reply(exchange, 405, "text/plain", "GET /sparql?query=... only\n".getBytes(StandardCharsets.UTF_8));
            return;
        }
        String text = null;
        List<Node> defaults = new ArrayList<>();
        List<Node> named = new ArrayList<>();
        String raw = exchange.getRequestURI().getRawQuery();
        for (String pair : raw == null ? new String[0] : raw.split("&")) {
            int eq = pair.indexOf('=');
            String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            switch (key) {
                case "query" -> text = value;
                case "default-graph-uri" -> defaults.add(NodeFactory.createURI(value));
                case "named-graph-uri" -> named.add(NodeFactory.createURI(value));
                default -> { }
            }
        }
        if (text == null) {
            reply(exchange, 400, "text/plain", "no query= parameter\n".getBytes(StandardCharsets.UTF_8));
            return;
        }
        Query query;
        try {
            query = QueryFactory.create(text, Syntax.syntaxSPARQL_11);
        } catch (QueryParseException e) {
            reply(exchange, 400, "text/plain", (e.getMessage() + "\n").getBytes(StandardCharsets.UTF_8));
            return;
        }
        DatasetGraph target = defaults.isEmpty() && named.isEmpty() ? data
                : DynamicDatasets.dynamicDataset(defaults, named, data, false);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        String type;
        try {
            type = Txn.calculateRead(data, () -> run(query, target, body));
        } catch (RuntimeException e) {
            reply(exchange, 500, "text/plain", (e + "\n").getBytes(StandardCharsets.UTF_8));
            return;
        }
        reply(exchange, 200, type, body.toByteArray());
    }

    static String run(Query query, DatasetGraph target, OutputStream out) {
        try (QueryExecution exec = QueryExecution.create().query(query).dataset(DatasetFactory.wrap(target))
                .timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS).build()) {
            if (query.isSelectType()) {
                ResultSetFormatter.outputAsJSON(out, exec.execSelect());
            } else if (query.isAskType()) {
                ResultSetFormatter.outputAsJSON(out, exec.execAsk());
            } else if (query.isConstructType()) {
                RDFDataMgr.write(out, exec.execConstruct(), Lang.NTRIPLES);
                return "application/n-triples";
            } else if (query.isDescribeType()) {
                RDFDataMgr.write(out, exec.execDescribe(), Lang.NTRIPLES);
                return "application/n-triples";
            } else {
                throw new IllegalArgumentException("unsupported query form");
            }
            return "application/sparql-results+json";
        }
    }

    static void reply(HttpExchange exchange, int status, String type, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
    }
}
