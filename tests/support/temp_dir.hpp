// A fresh folder under the system temp directory, removed with everything
// in it when the object goes out of scope.
#pragma once

#include <string>

namespace batchcast::testing {

class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string file(const std::string& name) const;

 private:
  std::string path_;
};

}  // namespace batchcast::testing
