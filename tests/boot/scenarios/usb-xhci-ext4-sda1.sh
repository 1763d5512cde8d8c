# shellcheck shell=bash disable=SC2034,SC2154 # a scenario, sourced by tests/boot/run.sh
# USB mass storage behind an xHCI controller, GPT, ext4, root=/dev/sda1
# with rootwait (USB disks appear late).
BUS=usb-xhci FSTYPE=ext4 TABLE=gpt
CMDLINE="root=/dev/sda1 rootwait ro"
EXPECT_ROOTDEV=sda1
EXPECT_OPTS=ro
EXPECT_MODULES="xhci_pci usb_storage sd_mod ext4"
MIN_MODULES="xhci_pci usb_storage sd_mod ext4"
