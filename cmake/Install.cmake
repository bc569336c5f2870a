# Where `cmake --install` puts clusterctl, as a Debian user expects (FHS), and the Debian
# package made of it (CPack, scripts/package). The man page and the shell completions are
# printed by the built binary from its own command definitions (cli/help_formats.cpp), so
# they cannot drift from --help.
include(GNUInstallDirs)

set(CLUSTERCTL_GENERATED ${CMAKE_BINARY_DIR}/generated)
add_custom_command(
  OUTPUT ${CLUSTERCTL_GENERATED}/clusterctl.1.gz ${CLUSTERCTL_GENERATED}/clusterctl.bash
         ${CLUSTERCTL_GENERATED}/_clusterctl
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CLUSTERCTL_GENERATED}
  COMMAND sh -c "\"$1\" manpage | gzip -9n > \"$2/clusterctl.1.gz\" && \"$1\" completion bash > \"$2/clusterctl.bash\" && \"$1\" completion zsh > \"$2/_clusterctl\""
          sh $<TARGET_FILE:clusterctl> ${CLUSTERCTL_GENERATED}
  DEPENDS clusterctl
  COMMENT "Man page and shell completions from clusterctl's command definitions"
  VERBATIM)
add_custom_target(clusterctl_generated_docs ALL
  DEPENDS ${CLUSTERCTL_GENERATED}/clusterctl.1.gz ${CLUSTERCTL_GENERATED}/clusterctl.bash
          ${CLUSTERCTL_GENERATED}/_clusterctl)

install(TARGETS clusterctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CLUSTERCTL_GENERATED}/clusterctl.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${CLUSTERCTL_GENERATED}/clusterctl.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME clusterctl)
install(FILES ${CLUSTERCTL_GENERATED}/_clusterctl
        DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
install(FILES docs/clusterctl.schema.json DESTINATION ${CMAKE_INSTALL_DATADIR}/clusterctl)
install(FILES README.md docs/CONFIG.md docs/COMPATIBILITY.md docs/SLURM.md docs/ARCHITECTURE.md
              docs/PERFORMANCE.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME copyright)
install(DIRECTORY configs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME clusterctl)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "clusterctl developers <clusterctl@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "launch distributed training on GPU clusters over SSH")
set(CPACK_PACKAGE_DESCRIPTION
    "One binary that reads an MPI/DeepSpeed hostfile and a YAML training config, runs each \
step on every node at once over libssh2 (ssh_config, known_hosts, ssh-agent, jump hosts), \
launches torchrun with distinct node ranks, streams the merged logs back, supervises \
detached jobs and leaves no process behind. Also drives Slurm allocations.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The runtime libraries (libssh2-1, libyaml-cpp0.7, libfmt9, libspdlog1.10, ...) as
# dpkg-shlibdeps finds them in the binary: apt-get pulls them in.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "openssh-client")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "slurm-client")
include(CPack)
