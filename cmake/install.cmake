# bncheck as an installed package. `cmake --install build --prefix P` gives
#   P/bin/bncheck                                the command
#   P/include/bncheck/bncheck_kernel.h          the C interface a plugin implements
#   P/share/bncheck/golden/                      the golden corpus (--golden's default there)
#   P/lib/bncheck/                               the libtorch adapter's module, when built
#   P/lib/cmake/bncheck/bncheckConfig.cmake      find_package(bncheck): bncheck::kernel_abi
#                                                (header + DLPack) and bncheck::bncheck (the command)
# tests/package builds examples/plugin against it, out of tree.
include(CMakePackageConfigHelpers)

install(TARGETS bncheck_kernel_abi EXPORT bncheckTargets)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/bncheck DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS bncheck EXPORT bncheckTargets RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/golden/cases/ DESTINATION ${CMAKE_INSTALL_DATADIR}/bncheck/golden)
if(BNCHECK_HAVE_LIBTORCH)
  install(TARGETS bncheck_adapter_libtorch LIBRARY DESTINATION lib/bncheck)  # core/installed.hpp
endif()

install(EXPORT bncheckTargets NAMESPACE bncheck:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/bncheck)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/bncheckConfig.cmake.in
                              ${CMAKE_CURRENT_BINARY_DIR}/bncheckConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/bncheck)
# The C interface's major version is the package's: a plugin built against
# 1.x loads in any bncheck 1.y (include/bncheck/bncheck_kernel.h).
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/bncheckConfigVersion.cmake
                                  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/bncheckConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/bncheckConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/bncheck)
