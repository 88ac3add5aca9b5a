#include "common/node_name.hpp"

#include "common/terminal_text.hpp"

namespace batchcast {

std::optional<std::string> node_name_problem(std::string_view name) {
  if (name.empty())
    return "it is empty";
  if (name.size() > max_node_name_bytes)
    return "it is " + std::to_string(name.size()) + " bytes long, over " +
           std::to_string(max_node_name_bytes);
  // one_line leaves printable UTF-8 alone and changes everything else.
  if (one_line(name) != name)
    return "it holds control characters or bytes that are not UTF-8";
  if (name.front() == ' ' || name.back() == ' ')
    return "it starts or ends with a space";
  return std::nullopt;
}

}  // namespace batchcast
