# Installed with the synfin command: its man page and its bash completion.
# (Included from the top-level CMakeLists.txt, after the synfin target.)
include(GNUInstallDirs)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/synfin.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/synfin.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME synfin)
