# cmake/install.cmake - what "cmake --install" puts where, and the .deb
# package (CPack). Included by CMakeLists.txt, which installs the binary.
#
#   cmake --install build --prefix /usr/local        # or DESTDIR=/stage cmake --install build
#   cd build && cpack -G DEB                         # gpucloudfs_<version>_<arch>.deb
#
#   PREFIX/bin/gpucloudfs                      the daemon (CMakeLists.txt)
#   PREFIX/sbin/mount.fuse.gpucloudfs          mount(8) helper for fstab type fuse.gpucloudfs;
#                                              with PREFIX=/usr it is /sbin/... on merged-/usr
#   PREFIX/share/man/man1/gpucloudfs.1         the manual page
#   PREFIX/lib/systemd/user/gpucloudfs.service the systemd user unit (mounts ~/clouds)
#   PREFIX/share/doc/gpucloudfs/               README.md, user-guide.md, names.md
include(GNUInstallDirs)

set(GCF_ROOT ${PROJECT_SOURCE_DIR})
install(PROGRAMS ${GCF_ROOT}/contrib/mount.fuse.gpucloudfs DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(FILES ${GCF_ROOT}/docs/gpucloudfs.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${GCF_ROOT}/contrib/systemd/gpucloudfs.service DESTINATION lib/systemd/user)
install(FILES ${GCF_ROOT}/README.md ${GCF_ROOT}/docs/user-guide.md ${GCF_ROOT}/docs/names.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# ---- the Debian package ----------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME gpucloudfs)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR gpucloudfs)
set(CPACK_PACKAGE_CONTACT "gpucloudfs maintainers <maintainers@gpucloudfs.dev>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "FUSE filesystem showing AI/GPU cloud control planes as read-only files")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${CPACK_PACKAGE_CONTACT})
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Debian 12 (bookworm) names; the versions are bookworm's, the oldest tested.
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libc6 (>= 2.34), fuse3 (>= 3.14), libfuse3-3 (>= 3.14), libcurl4 (>= 7.88), libcjson1 (>= 1.7.15), libinih1 (>= 55), libssl3 (>= 3.0)")
# The extended description; CPack puts the summary above it and indents it.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "gpucloudfs mounts the control planes of AI/GPU clouds (Tencent Cloud TI-ONE, CTyun, \
Baidu Qianfan, Alaya NeW) as a read-only tree of small text and JSON files, so that ls, cat, \
grep and jq answer questions about training tasks, services, queues and compute units. Each \
directory read lazily calls the cloud's paginated API and caches the answer for a TTL.

It runs as an ordinary user (gpucloudfs -f ~/clouds, or the systemd user unit) or from \
/etc/fstab with type fuse.gpucloudfs.")
include(CPack)
