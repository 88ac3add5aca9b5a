#include "net/metered_stream.hpp"

#include <string>

namespace batchcast::net {

namespace {

class client_error_category_impl : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "batchcast.client"; }

  std::string message(int value) const override {
    switch (static_cast<client_error>(value)) {
      case client_error::sent_too_many_bytes:
        return "the client sent more bytes than its budget allows";
    }
    return "unknown client error";
  }
};

}  // namespace

const boost::system::error_category& client_error_category() {
  static const client_error_category_impl instance;
  return instance;
}

error_code make_error_code(client_error e) {
  return {static_cast<int>(e), client_error_category()};
}

}  // namespace batchcast::net
