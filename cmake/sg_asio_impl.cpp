// Asio's implementation, compiled once for the whole build when
// SG_ASIO_SEPARATE is on (BOOST_ASIO_SEPARATE_COMPILATION): every other TU
// includes Asio's declarations only. See the top-level CMakeLists.txt.
#include <boost/asio/impl/src.hpp>
