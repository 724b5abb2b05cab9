# tests/package/run.cmake: proves an outside project can consume carbonkube.
# Run by ctest (tests/CMakeLists.txt) as
#   cmake -DMODE=<mode> -DSOURCE_DIR=<src> -DBUILD_DIR=<main build> -DWORK_DIR=<dir> [...] -P run.cmake
# MODE:
#   install       cmake --install BUILD_DIR into WORK_DIR/prefix and check what landed
#   find_package  consumer project using find_package(carbonkube) on that prefix
#   subdirectory  consumer project using add_subdirectory(SOURCE_DIR)
#   pkg-config    compile and link the consumer with pkg-config --cflags --libs --static
# find_package and pkg-config need the prefix made by install (a ctest fixture).
# Optional: CONFIG, GENERATOR, MAKE_PROGRAM, C_COMPILER, CXX_COMPILER, CXX_FLAGS,
# C_FLAGS, EXE_LINKER_FLAGS (forwarded from the main build so the consumers
# match its ABI and sanitizers), LIBDIR (CMAKE_INSTALL_LIBDIR), VERSION,
# PKG_CONFIG (the pkg-config program).
cmake_minimum_required(VERSION 3.22)

foreach(_v MODE SOURCE_DIR BUILD_DIR WORK_DIR)
  if(NOT DEFINED ${_v} OR "${${_v}}" STREQUAL "")
    message(FATAL_ERROR "run.cmake: -D${_v}=... is required")
  endif()
endforeach()
if(NOT LIBDIR)
  set(LIBDIR lib)
endif()
if(IS_ABSOLUTE "${LIBDIR}")
  message(FATAL_ERROR "run.cmake: CMAKE_INSTALL_LIBDIR (${LIBDIR}) is absolute; cannot install into a test prefix")
endif()

set(PREFIX "${WORK_DIR}/prefix")
set(CONSUMER_SRC "${CMAKE_CURRENT_LIST_DIR}/consumer")
set(JOBS 2)
# Staging variables from the caller's environment must not redirect the install.
unset(ENV{DESTDIR})

# run(<what> COMMAND ...): runs a command, echoes its output, fails the test on error.
function(run what)
  cmake_parse_arguments(PARSE_ARGV 1 R "" "WORKING_DIRECTORY;OUTPUT_VARIABLE" "COMMAND")
  if(NOT R_WORKING_DIRECTORY)
    set(R_WORKING_DIRECTORY "${WORK_DIR}")
  endif()
  list(JOIN R_COMMAND " " _shown)
  message(STATUS "[${MODE}] ${what}: ${_shown}")
  execute_process(COMMAND ${R_COMMAND} WORKING_DIRECTORY "${R_WORKING_DIRECTORY}"
                  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
  if(NOT _rc EQUAL 0)
    message("${_out}")
    message(FATAL_ERROR "[${MODE}] ${what} failed (${_rc})")
  endif()
  if(R_OUTPUT_VARIABLE)
    set(${R_OUTPUT_VARIABLE} "${_out}" PARENT_SCOPE)
  endif()
endfunction()

# check_consumer(<exe>): runs the built consumer and checks what it printed.
function(check_consumer exe)
  run("run consumer" COMMAND "${exe}" OUTPUT_VARIABLE _out)
  message(STATUS "[${MODE}] ${_out}")
  if(NOT _out MATCHES "placed shop/web-0 on big")
    message(FATAL_ERROR "[${MODE}] unexpected consumer output: ${_out}")
  endif()
endfunction()

function(require_prefix)
  if(NOT EXISTS "${PREFIX}/${LIBDIR}/pkgconfig/carbonkube.pc")
    message(FATAL_ERROR "[${MODE}] ${PREFIX} holds no installed carbonkube: run the package.install test first")
  endif()
endfunction()

# configure_consumer(<binary dir> [KEEP_OBJECTS] <cmake -D args>...)
# Always a fresh configure (no cache left from an earlier run). KEEP_OBJECTS
# keeps the object files of subdirectories (the library built by
# add_subdirectory), so that a rerun only recompiles what changed.
function(configure_consumer bindir)
  cmake_parse_arguments(PARSE_ARGV 1 C "KEEP_OBJECTS" "" "")
  if(C_KEEP_OBJECTS)
    file(REMOVE_RECURSE "${bindir}/CMakeCache.txt" "${bindir}/CMakeFiles")
  else()
    file(REMOVE_RECURSE "${bindir}")
  endif()
  set(_args -S "${CONSUMER_SRC}" -B "${bindir}")
  if(GENERATOR)
    list(APPEND _args -G "${GENERATOR}")
  endif()
  if(MAKE_PROGRAM)
    list(APPEND _args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
  endif()
  foreach(_pair "C_COMPILER;CMAKE_C_COMPILER" "CXX_COMPILER;CMAKE_CXX_COMPILER"
                "C_FLAGS;CMAKE_C_FLAGS" "CXX_FLAGS;CMAKE_CXX_FLAGS"
                "EXE_LINKER_FLAGS;CMAKE_EXE_LINKER_FLAGS")
    list(GET _pair 0 _in)
    list(GET _pair 1 _out)
    if(NOT "${${_in}}" STREQUAL "")
      list(APPEND _args "-D${_out}=${${_in}}")
    endif()
  endforeach()
  if(CONFIG)
    list(APPEND _args "-DCMAKE_BUILD_TYPE=${CONFIG}")
  endif()
  run("configure consumer" COMMAND "${CMAKE_COMMAND}" ${_args} ${C_UNPARSED_ARGUMENTS})
endfunction()

function(build_consumer bindir)
  set(_args --build "${bindir}" --target consumer --parallel ${JOBS})
  if(CONFIG)
    list(APPEND _args --config "${CONFIG}")
  endif()
  run("build consumer" COMMAND "${CMAKE_COMMAND}" ${_args})
  foreach(_exe "${bindir}/consumer" "${bindir}/consumer.exe"
               "${bindir}/${CONFIG}/consumer" "${bindir}/${CONFIG}/consumer.exe")
    if(EXISTS "${_exe}" AND NOT IS_DIRECTORY "${_exe}")
      check_consumer("${_exe}")
      return()
    endif()
  endforeach()
  message(FATAL_ERROR "[${MODE}] no consumer executable under ${bindir}")
endfunction()

file(MAKE_DIRECTORY "${WORK_DIR}")

if(MODE STREQUAL "install")
  file(REMOVE_RECURSE "${PREFIX}")
  set(_args --install "${BUILD_DIR}" --prefix "${PREFIX}")
  if(CONFIG)
    list(APPEND _args --config "${CONFIG}")
  endif()
  run("install main build" COMMAND "${CMAKE_COMMAND}" ${_args})
  foreach(_f include/carbonkube/version.hpp include/carbonkube/scheduler.hpp
             ${LIBDIR}/cmake/carbonkube/carbonkubeConfig.cmake
             ${LIBDIR}/cmake/carbonkube/carbonkubeConfigVersion.cmake
             ${LIBDIR}/cmake/carbonkube/carbonkubeTargets.cmake
             ${LIBDIR}/pkgconfig/carbonkube.pc
             include/carbonkube.h ${LIBDIR}/pkgconfig/carbonkube_c.pc)
    if(NOT EXISTS "${PREFIX}/${_f}")
      message(FATAL_ERROR "[install] ${_f} was not installed")
    endif()
  endforeach()
  # The installed package must not point back into the source or build tree,
  # nor make consumers find the private header-only nlohmann_json.
  file(GLOB _pkgfiles "${PREFIX}/${LIBDIR}/cmake/carbonkube/*.cmake" "${PREFIX}/${LIBDIR}/pkgconfig/carbonkube.pc")
  foreach(_f IN LISTS _pkgfiles)
    file(STRINGS "${_f}" _lines REGEX "^[ \t]*[^# \t]")  # no comments
    foreach(_bad "${SOURCE_DIR}" "${BUILD_DIR}" "nlohmann")
      foreach(_line IN LISTS _lines)
        string(FIND "${_line}" "${_bad}" _at)
        if(NOT _at EQUAL -1)
          message(FATAL_ERROR "[install] ${_f} mentions '${_bad}': ${_line}")
        endif()
      endforeach()
    endforeach()
  endforeach()
  message(STATUS "[install] installed into ${PREFIX}")

elseif(MODE STREQUAL "find_package")
  require_prefix()
  set(_bindir "${WORK_DIR}/find_package")
  configure_consumer("${_bindir}" -DCONSUMER_MODE=find_package
    "-DCMAKE_PREFIX_PATH=${PREFIX}" "-DCARBONKUBE_EXPECTED_PREFIX=${PREFIX}"
    "-DCARBONKUBE_EXPECTED_VERSION=${VERSION}" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
  build_consumer("${_bindir}")

elseif(MODE STREQUAL "subdirectory")
  set(_bindir "${WORK_DIR}/subdirectory")
  configure_consumer("${_bindir}" KEEP_OBJECTS -DCONSUMER_MODE=subdirectory "-DCARBONKUBE_SOURCE_DIR=${SOURCE_DIR}")
  build_consumer("${_bindir}")

elseif(MODE STREQUAL "pkg-config")
  if(NOT PKG_CONFIG)
    find_program(PKG_CONFIG NAMES pkg-config pkgconf)
  endif()
  if(NOT PKG_CONFIG)
    message("PACKAGE_TEST_SKIPPED: no pkg-config program found")
    return()
  endif()
  if(NOT CXX_COMPILER)
    message(FATAL_ERROR "[pkg-config] -DCXX_COMPILER=... is required")
  endif()
  require_prefix()
  set(_bindir "${WORK_DIR}/pkg-config")
  file(REMOVE_RECURSE "${_bindir}")
  file(MAKE_DIRECTORY "${_bindir}")
  set(ENV{PKG_CONFIG_PATH} "${PREFIX}/${LIBDIR}/pkgconfig")

  run("pkg-config version" COMMAND "${PKG_CONFIG}" --modversion carbonkube OUTPUT_VARIABLE _ver)
  string(STRIP "${_ver}" _ver)
  if(VERSION AND NOT _ver STREQUAL VERSION)
    message(FATAL_ERROR "[pkg-config] carbonkube.pc says version ${_ver}, expected ${VERSION}")
  endif()
  run("pkg-config flags" COMMAND "${PKG_CONFIG}" --cflags --libs --static carbonkube OUTPUT_VARIABLE _flags)
  string(STRIP "${_flags}" _flags)
  message(STATUS "[pkg-config] carbonkube: ${_flags}")
  separate_arguments(_flags UNIX_COMMAND "${_flags}")
  # The include path must lead to the installed headers, not anywhere else.
  set(_inc_ok FALSE)
  file(REAL_PATH "${PREFIX}/include" _want)
  foreach(_f IN LISTS _flags)
    if(_f MATCHES "^-I(.+)$")
      file(REAL_PATH "${CMAKE_MATCH_1}" _got)
      if(_got STREQUAL _want)
        set(_inc_ok TRUE)
      endif()
    endif()
  endforeach()
  if(NOT _inc_ok)
    message(FATAL_ERROR "[pkg-config] no -I${PREFIX}/include in the flags")
  endif()

  separate_arguments(_cxxflags UNIX_COMMAND "${CXX_FLAGS}")
  separate_arguments(_ldflags UNIX_COMMAND "${EXE_LINKER_FLAGS}")
  set(_exe "${_bindir}/consumer")
  run("compile and link consumer" WORKING_DIRECTORY "${_bindir}"
      COMMAND "${CXX_COMPILER}" ${_cxxflags}
              -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Werror
              "${CONSUMER_SRC}/consumer.cpp" -o "${_exe}" ${_ldflags} ${_flags})
  # Only needed if the library was built shared: pkg-config sets no rpath.
  set(ENV{LD_LIBRARY_PATH} "${PREFIX}/${LIBDIR}:$ENV{LD_LIBRARY_PATH}")
  check_consumer("${_exe}")

  # The C ABI from plain C, through carbonkube_c.pc; the shared library must
  # export nothing but ck_ symbols, so no C++ runtime flags are needed.
  if(NOT C_COMPILER)
    message(FATAL_ERROR "[pkg-config] -DC_COMPILER=... is required")
  endif()
  run("pkg-config flags (C ABI)" COMMAND "${PKG_CONFIG}" --cflags --libs carbonkube_c
      OUTPUT_VARIABLE _cflags_c)
  string(STRIP "${_cflags_c}" _cflags_c)
  message(STATUS "[pkg-config] carbonkube_c: ${_cflags_c}")
  separate_arguments(_cflags_c UNIX_COMMAND "${_cflags_c}")
  separate_arguments(_cflags UNIX_COMMAND "${C_FLAGS}")
  set(_exe_c "${_bindir}/consumer_c")
  run("compile and link C consumer" WORKING_DIRECTORY "${_bindir}"
      COMMAND "${C_COMPILER}" -std=c11 ${_cflags} -Wall -Wextra -Wpedantic -Werror
              "${CONSUMER_SRC}/consumer_c.c" -o "${_exe_c}" ${_ldflags} ${_cflags_c})
  run("run C consumer" COMMAND "${_exe_c}" OUTPUT_VARIABLE _out_c)
  if(NOT _out_c MATCHES "placed shop/web-0 on big")
    message(FATAL_ERROR "[pkg-config] unexpected C consumer output: ${_out_c}")
  endif()
  message(STATUS "[pkg-config] C consumer: ${_out_c}")

else()
  message(FATAL_ERROR "run.cmake: unknown MODE '${MODE}'")
endif()
