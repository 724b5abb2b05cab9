include(CMakePackageConfigHelpers)
install(TARGETS carbonkube EXPORT carbonkubeTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/carbonkube DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT carbonkubeTargets NAMESPACE carbonkube:: FILE carbonkubeTargets.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/carbonkube)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/carbonkubeConfig.cmake.in
  ${PROJECT_BINARY_DIR}/carbonkubeConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/carbonkube)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/carbonkubeConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/carbonkubeConfig.cmake ${PROJECT_BINARY_DIR}/carbonkubeConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/carbonkube)
configure_file(${PROJECT_SOURCE_DIR}/cmake/carbonkube.pc.in ${PROJECT_BINARY_DIR}/carbonkube.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/carbonkube.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
