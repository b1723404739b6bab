# cross.mk - `make cross`: kinglet for armhf, arm64 and mipsel from Debian
# multiarch packages (port/cross/cross.sh), then checked under qemu-user
# (tests/it/t_cross.sh). CROSS_ARCHS picks a subset.
CROSS_ARCHS ?= armhf arm64 mipsel

.PHONY: cross
cross:
	@sh port/cross/cross.sh $(CROSS_ARCHS)
	@bash tests/it/t_cross.sh
