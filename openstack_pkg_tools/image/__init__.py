"""The image builder: a bootable Debian cloud image for Glance.

One module per phase: ``options`` (what to build), ``bootstrap`` (the root
tree, cached), ``configure`` (files and commands inside the tree),
``cloudinit`` (cloud-init's configuration), ``disk`` (partitions and file
systems assembled from plain files), ``bootloader`` (GRUB for BIOS and
UEFI), ``manifest`` (what went in), ``builder`` (the whole build, undone on
failure), ``qemu`` (the boot test) and ``glance`` (the upload).
"""
