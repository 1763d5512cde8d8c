#!/bin/bash
# The layering test (tests/layout/check.sh) on this tree, then on copies
# with a planted breach, which it must catch: an include pointing upward and
# a call from base/ into image/.  One PASS or FAIL line each.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
rc=0
out=$(tests/layout/check.sh . "$BUILD/obj") || rc=1
echo "$out"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/tree"
cp -R builder "$tmp/tree/"
sed -i '0,/#include "base\/base.h"/s//#include "base\/base.h"\n#include "image\/image.h"/' \
	"$tmp/tree/builder/base/str.c"
if out=$(tests/layout/check.sh "$tmp/tree" "$BUILD/obj" 2>&1); then
	echo "FAIL layout self-test: an include of image/ planted in base/str.c was not caught"
	rc=1
elif grep -q 'base/str.c:[0-9]*: base/ includes "image/image.h"' <<<"$out"; then
	echo "PASS layout self-test: a planted upward include is caught"
else
	echo "FAIL layout self-test: the planted include failed for another reason:"
	echo "$out" | sed 's/^/  /'
	rc=1
fi

mkdir -p "$tmp/obj"
cp -R "$BUILD/obj/builder" "$tmp/obj/"
printf 'void kd_image_write(void);\nvoid planted(void) { kd_image_write(); }\n' >"$tmp/planted.c"
cc -c -o "$tmp/obj/builder/base/planted.o" "$tmp/planted.c"
if out=$(tests/layout/check.sh . "$tmp/obj" 2>&1); then
	echo "FAIL layout self-test: a call from base/ into image/ was not caught"
	rc=1
elif grep -q 'base/planted.o: base/ calls kd_image_write from builder/image/image.o' <<<"$out"; then
	echo "PASS layout self-test: a planted upward call is caught"
else
	echo "FAIL layout self-test: the planted call failed for another reason:"
	echo "$out" | sed 's/^/  /'
	rc=1
fi
exit $rc
