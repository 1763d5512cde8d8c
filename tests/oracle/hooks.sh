#!/bin/bash
# Oracle: image hooks in real images.
#   - `kindling build --hook busybox --hook fsck`: the image (read back with
#     `kindling ls`) holds /bin/sh, busybox, e2fsck with its fsck.ext4 link
#     and every library `ldd` lists for busybox and e2fsck at its real path;
#     extracted, the programs run in a chroot of the image (so nothing ld.so
#     needs is missing);
#   - a user hook in -r ROOT/etc/kindling/hooks.d (chosen by the config key
#     `hooks`) and one in --hooks-dir: a program built here into the root
#     with its libraries inside the root (absolute symlinks resolved in the
#     root), and stage scripts at /etc/kindling/stages/STAGE/NN-NAME, 0755,
#     NN in the order the hooks were chosen;
#   - errors: an unknown hook and a bad line exit 2, a missing binary
#     exits 1, each naming what is wrong.
# Prints PASS/FAIL lines.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-build}
kd="$top/$BUILD/kindling"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export LC_ALL=C
kver=$(ls /lib/modules | sort -V | tail -1)

pass() { echo "PASS hooks $1"; }
fail() {
	echo "FAIL hooks $1"
	shift
	for l in "$@"; do echo "  $l"; done
}

sanitizer_report() {
	grep -q 'Sanitizer\|runtime error' "$1"
}

# ls_paths IMAGE OUT: "TYPE PATH" per entry (TYPE the mode's first letter)
ls_paths() {
	"$kd" ls "$1" |
		awk 'length($1) == 10 && $1 ~ /^[-dlcbps][-rwxsStT]+$/ { print substr($1, 1, 1), $3 }' |
		sort >"$2"
}

# has LIST TYPE PATH
has() {
	grep -qxF -e "$2 $3" "$1"
}

# ---- busybox and fsck ---------------------------------------------------------
img=$work/bb.img
if "$kd" build --no-config -k "$kver" --add ext4 --hook busybox --hook fsck -o "$img" \
	>"$work/build.out" 2>&1 && ! sanitizer_report "$work/build.out"; then
	pass "build --hook busybox --hook fsck"
else
	fail "build --hook busybox --hook fsck" "$(head -20 "$work/build.out")"
fi
ls_paths "$img" "$work/bb.list"
"$kd" ls "$img" >"$work/bb.ls"
missing=
for want in "l bin" "l usr/bin/sh" "- usr/bin/busybox" "- usr/sbin/e2fsck" \
	"l usr/sbin/fsck.ext4" "l lib64" "l usr/lib64/ld-linux-x86-64.so.2" \
	"- usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"; do
	has "$work/bb.list" $want || missing="$missing [$want]"
done
if [ -z "$missing" ] && grep -q ' usr/bin/sh -> busybox$' "$work/bb.ls" &&
   grep -q ' usr/sbin/fsck.ext4 -> e2fsck$' "$work/bb.ls"; then
	pass "busybox, /bin/sh, e2fsck, fsck.ext4 and the interpreter's links in the image"
else
	fail "shipped hooks' files" "missing:$missing"
fi
for bin in /usr/bin/busybox /usr/sbin/e2fsck; do
	n=0 missing=
	while read -r p; do
		r=$(realpath "$p")
		n=$((n + 1))
		has "$work/bb.list" - "${r#/}" || missing="$missing $r"
	done < <(ldd "$bin" | sed -n 's/.*=> \(\/[^ ]*\) (.*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p')
	if [ "$n" -ge 2 ] && [ -z "$missing" ]; then
		pass "every library ldd lists for $bin ($n) is in the image"
	else
		fail "libraries of $bin" "ldd listed $n, missing:$missing"
	fi
done
mkdir -p "$work/bb"
if "$kd" extract "$img" "$work/bb" >/dev/null 2>"$work/extract.err"; then
	out=$(chroot "$work/bb" /bin/sh -c 'echo rescue shell: $(ls /sbin/e2fsck)' 2>&1)
	ver=$(chroot "$work/bb" /sbin/e2fsck -V 2>&1)
	if [ "$out" = "rescue shell: /sbin/e2fsck" ] && grep -q '^e2fsck ' <<<"$ver"; then
		pass "/bin/sh and /sbin/e2fsck run in a chroot of the image"
	else
		fail "chroot run" "sh: $out" "e2fsck: $ver"
	fi
else
	fail "extract" "$(head -5 "$work/extract.err")"
fi

# ---- user hooks in a build root ---------------------------------------------
root=$work/root
mkdir -p "$root/usr/lib/x86_64-linux-gnu" "$root/usr/lib64" "$root/usr/local/bin" \
	"$root/etc/kindling/hooks.d" "$work/mine"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
cp /lib/x86_64-linux-gnu/libc.so.6 /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 \
	"$root/usr/lib/x86_64-linux-gnu/"
ln -s /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$root/usr/lib64/"
printf '#include <stdio.h>\nint main(void) { puts("hello from the root"); return 0; }\n' \
	>"$work/hello.c"
gcc -o "$root/usr/local/bin/hello" "$work/hello.c"
cat >"$root/etc/kindling/hooks.d/user.hook" <<'EOF'
# a user's hook: a program of the root and a script before the root is mounted
binary hello
script pre-mount user-pre-mount.sh
EOF
printf '#!/bin/sh\necho user hook ran\n' >"$root/etc/kindling/hooks.d/user-pre-mount.sh"
cat >"$work/mine/mine.hook" <<'EOF'
script pre-mount mine.sh
script modules mine.sh
dir /run/mine
EOF
printf '#!/bin/sh\necho mine\n' >"$work/mine/mine.sh"
echo "hooks = user" >"$root/etc/kindling.conf"
img=$work/user.img
if "$kd" build -r "$root" --moddir "/lib/modules/$kver" --add ext4 --hooks-dir "$work/mine" \
	--hook mine -o "$img" >"$work/build.out" 2>&1 && ! sanitizer_report "$work/build.out"; then
	pass "build -r ROOT with hooks = user (config) and --hook mine (--hooks-dir)"
else
	fail "build -r ROOT with user hooks" "$(head -20 "$work/build.out")"
fi
"$kd" ls "$img" >"$work/user.ls"
ls_paths "$img" "$work/user.list"
ok=1
for want in "-rwxr-xr-x .* usr/local/bin/hello$" \
	"-rwxr-xr-x .* etc/kindling/stages/pre-mount/00-user$" \
	"-rwxr-xr-x .* etc/kindling/stages/pre-mount/01-mine$" \
	"-rwxr-xr-x .* etc/kindling/stages/modules/01-mine$" \
	"^drwxr-xr-x .* run/mine$" \
	" usr/lib/x86_64-linux-gnu/libc.so.6$" \
	" usr/lib64/ld-linux-x86-64.so.2 -> /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2$"; do
	grep -q -- "$want" "$work/user.ls" || { ok=0; fail "user hook: no line matching '$want'"; }
done
[ $ok = 1 ] && pass "user hooks: binary with its root's libraries, scripts 0755 at stages/STAGE/NN-NAME"
rm -rf "$work/u" && mkdir -p "$work/u"
"$kd" extract "$img" "$work/u" >/dev/null 2>&1
out=$(chroot "$work/u" /usr/local/bin/hello 2>&1)
script=$(cat "$work/u/etc/kindling/stages/pre-mount/00-user" 2>&1)
if [ "$out" = "hello from the root" ] && [ "$script" = "$(printf '#!/bin/sh\necho user hook ran')" ]; then
	pass "the root's program runs in a chroot of the image; the script is the hook's"
else
	fail "user hook content" "hello: $out" "script: $script"
fi

# ---- errors --------------------------------------------------------------------
# expect NAME RC PATTERN ARGS...
expect() {
	local name=$1 rc=$2 pattern=$3 got
	shift 3
	rm -f "$work/err.img"
	"$kd" build --no-config -k "$kver" --add ext4 -o "$work/err.img" "$@" >"$work/err.out" 2>&1
	got=$?
	if [ $got = "$rc" ] && grep -q -- "$pattern" "$work/err.out" && [ ! -e "$work/err.img" ] &&
	   ! sanitizer_report "$work/err.out"; then
		pass "$name: exit $rc, '$pattern'"
	else
		fail "$name" "exit $got (want $rc)" "$(head -5 "$work/err.out")"
	fi
}
mkdir -p "$work/bad"
printf 'binary /usr/bin/true\nfrob x\n' >"$work/bad/badline.hook"
printf '# ok\nbinary no-such-binary-anywhere\n' >"$work/bad/nobin.hook"
expect "unknown hook" 2 "hook nosuch: no nosuch.hook in $work/bad" \
	--hooks-dir "$work/bad" --hook nosuch
expect "bad line" 2 "badline.hook line 2: unknown keyword 'frob'" \
	--hooks-dir "$work/bad" --hook badline
expect "missing binary" 1 "nobin.hook line 2: binary no-such-binary-anywhere not found" \
	--hooks-dir "$work/bad" --hook nobin
exit 0
