# Install rules: the library, its headers, a relocatable CMake package
# (find_package(carbonkube)) and a relocatable pkg-config file. Exercised by the
# "package" tests (tests/package/).
include(CMakePackageConfigHelpers)

set(CARBONKUBE_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/carbonkube)

get_target_property(_carbonkube_type carbonkube TYPE)
if(_carbonkube_type STREQUAL "STATIC_LIBRARY")
  set(CARBONKUBE_STATIC_LIBRARY ON)
else()
  set(CARBONKUBE_STATIC_LIBRARY OFF)
endif()

# A static library exports its PRIVATE link dependencies as $<LINK_ONLY:...> so
# that consumers link them. For the compiled ones (yaml-cpp, fmt) that is
# needed, and carbonkubeConfig.cmake finds them. nlohmann_json is header-only
# and used only inside the library's sources: there is nothing of it to link,
# but a reference in the export would make every consumer find_package it just
# to define the target. Keep it out of the installed interface.
set(_carbonkube_build_only_deps nlohmann_json::nlohmann_json)
get_target_property(_carbonkube_link carbonkube INTERFACE_LINK_LIBRARIES)
if(_carbonkube_link)
  foreach(_dep IN LISTS _carbonkube_build_only_deps)
    string(REPLACE "::" "\\:\\:" _dep_re "${_dep}")
    list(TRANSFORM _carbonkube_link REPLACE "^\\$<LINK_ONLY:${_dep_re}>$"
         "$<LINK_ONLY:$<BUILD_INTERFACE:${_dep}>>")
    list(TRANSFORM _carbonkube_link REPLACE "^${_dep_re}$" "$<BUILD_INTERFACE:${_dep}>")
  endforeach()
  set_property(TARGET carbonkube PROPERTY INTERFACE_LINK_LIBRARIES "${_carbonkube_link}")
endif()

install(TARGETS carbonkube EXPORT carbonkubeTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/carbonkube DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT carbonkubeTargets NAMESPACE carbonkube:: FILE carbonkubeTargets.cmake
  DESTINATION ${CARBONKUBE_INSTALL_CMAKEDIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/carbonkubeConfig.cmake.in
  ${PROJECT_BINARY_DIR}/carbonkubeConfig.cmake
  INSTALL_DESTINATION ${CARBONKUBE_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/carbonkubeConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/carbonkubeConfig.cmake ${PROJECT_BINARY_DIR}/carbonkubeConfigVersion.cmake
  DESTINATION ${CARBONKUBE_INSTALL_CMAKEDIR})

# pkg-config: paths relative to the .pc file (${pcfiledir}), so the package
# works from whatever prefix it is installed or copied to (cmake --install
# --prefix, DESTDIR staging), like the CMake package does.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(CARBONKUBE_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(CARBONKUBE_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  file(RELATIVE_PATH _carbonkube_pc_up "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
  string(REGEX REPLACE "/$" "" _carbonkube_pc_up "${_carbonkube_pc_up}")
  set(CARBONKUBE_PC_PREFIX "\${pcfiledir}/${_carbonkube_pc_up}")
  set(CARBONKUBE_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(CARBONKUBE_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(CARBONKUBE_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
# A static carbonkube needs its compiled private dependencies at link time
# (pkg-config --static); a shared one hides them.
if(CARBONKUBE_STATIC_LIBRARY)
  set(CARBONKUBE_PC_REQUIRES_PRIVATE "yaml-cpp fmt")
else()
  set(CARBONKUBE_PC_REQUIRES_PRIVATE "")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/carbonkube.pc.in ${PROJECT_BINARY_DIR}/carbonkube.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/carbonkube.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The C ABI: libcarbonkube_c.so (the C++ core linked in and hidden), its one
# header, carbonkube::carbonkube_c in the CMake package, and carbonkube_c.pc
# (what a Go program names in `#cgo pkg-config: carbonkube_c`).
install(TARGETS carbonkube_c EXPORT carbonkubeTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/capi/carbonkube.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
configure_file(${PROJECT_SOURCE_DIR}/cmake/carbonkube_c.pc.in ${PROJECT_BINARY_DIR}/carbonkube_c.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/carbonkube_c.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
