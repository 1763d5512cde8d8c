# shellcheck shell=bash disable=SC2034,SC2154 # a scenario, sourced by tests/boot/run.sh
# The default of `kindling build` on this machine (no -r, --moddir, --set,
# --add, --generic): a host-only image detected from the live /sys and
# /proc/self/mountinfo, for a Debian kernel that is not the running one.
# The build machine's root is ext4 on virtio-blk (see /work/shared/README.md),
# the same bus as the test disk, so its image must boot it; root= names the
# test disk.  Every module in the image is there for the root chain, the
# documented policy, or as a dependency of one of those.
BUS=virtio-blk FSTYPE=ext4 TABLE=none
BUILD_ARGS=""
CMDLINE="root=UUID=$KB_FS_UUID_ext4 ro"
EXPECT_ROOTDEV=vda
EXPECT_MODULES="virtio_blk ext4"
KINDLING_ONLY=1
check() {
	local ls bad
	ls=$("$BUILD/kindling" ls "$JOB_INITRD" 2>&1) || { echo "kindling ls failed: $ls"; return 1; }
	grep -q '^  host-only: *yes$' <<<"$ls" || { echo "the default build is not host-only"; return 1; }
	bad=$(grep '^        reason: ' <<<"$ls" | sed 's/^ *reason: //' |
		grep -Ev '^(root chain: |filesystem |early mount |device /sys/devices/|dependency of |soft dependency of |weak dependency of )' |
		head -3)
	[ -z "$bad" ] || { echo "modules outside the root chain and policy: $bad"; return 1; }
	grep -q ' virtio_blk /usr/lib/modules/' <<<"$ls" || { echo "virtio_blk is not in the image"; return 1; }
	return 0
}
