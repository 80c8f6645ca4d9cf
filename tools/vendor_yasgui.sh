#!/usr/bin/env bash
# Vendor YASGUI (@zazuko/yasgui, MIT) into the package, so `pip install` + `caspian-kg serve` needs
# no npm and no CDN: the pinned release's built bundle (JS + CSS, dependencies included) is copied
# from the npm registry's tarball into server/caspian_kg/web/static/vendor/yasgui/, with its
# version, checksums and licence recorded in README.md there (tests/test_editor.py checks them).
#
#   bash tools/vendor_yasgui.sh            # the pinned version below
#   bash tools/vendor_yasgui.sh 4.6.3      # another release (then update VERSION here and commit)
set -euo pipefail

VERSION="${1:-4.6.2}"
PACKAGE="@zazuko/yasgui"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/server/caspian_kg/web/static/vendor/yasgui"
FILES=(yasgui.min.js yasgui.min.css)
# the npm packages the build bundled, read from its source-region comments
BUNDLED='const s=require("fs").readFileSync(process.argv[1],"utf8");const n=new Set();for(const m of s.matchAll(/^\/\/#region node_modules\/((?:@[^/]+\/)?[^/]+)/gm))n.add(m[1]);console.log([...n].sort().join(", "))'

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$PACKAGE@$VERSION" >/dev/null)
tarball="$(ls "$work"/*.tgz)"
tar -xzf "$tarball" -C "$work"
license="$(node -p "require('$work/package/package.json').license")"
integrity="$(cd "$work" && npm view "$PACKAGE@$VERSION" dist.integrity)"
[ "$license" = "MIT" ] || { echo "vendor_yasgui: $PACKAGE@$VERSION is licensed $license, not MIT" >&2; exit 1; }

mkdir -p "$DEST"
for f in "${FILES[@]}"; do cp "$work/package/build/$f" "$DEST/$f"; done

{
  echo "# YASGUI, vendored"
  echo
  echo "The query editor at \`/query\` (and \`/sparql\` in a browser) is [YASGUI](https://github.com/zazuko/Yasgui),"
  echo "served from this package: no CDN, no request leaves the server. Written by \`tools/vendor_yasgui.sh\`;"
  echo "do not edit these files by hand (the editor's own settings and fixes live in \`static/query.js\` and"
  echo "\`static/query.css\`)."
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| package | \`$PACKAGE\` |"
  echo "| version | $VERSION |"
  echo "| licence | $license (see LICENSE) |"
  echo "| bundled in it | $(node -e "$BUNDLED" "$work/package/build/yasgui.esm.js") (CodeMirror, lodash-es, SortableJS, N3.js, PapaParse, json2csv, jsuri, base64-js, strict-uri-encode: MIT; DOMPurify: MPL-2.0 or Apache-2.0; autoComplete.js: Apache-2.0; Font Awesome Free icons: CC BY 4.0) |"
  echo "| registry tarball | \`$(basename "$tarball")\`, integrity \`$integrity\` |"
  for f in "${FILES[@]}"; do
    echo "| sha256 \`$f\` | \`$(sha256sum "$DEST/$f" | cut -d' ' -f1)\` |"
  done
} > "$DEST/README.md"

cat > "$DEST/LICENSE" <<LICENSE
$PACKAGE $VERSION is published on npm under the MIT licence ("license": "$license" in its
package.json; author Triply <info@triply.cc>, contributors Zazuko GmbH). The tarball carries no
licence file of its own; this is the MIT licence text it declares.

MIT License

Copyright (c) Triply B.V. and Zazuko GmbH

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
LICENSE
echo "vendored $PACKAGE@$VERSION into ${DEST#$ROOT/}"
