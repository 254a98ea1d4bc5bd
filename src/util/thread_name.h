// Names the calling thread, so `top -H`, `ps -L` and profilers show what each
// of punt's threads does. Linux keeps at most 15 characters; longer names are
// cut.
#pragma once

#include <string_view>

namespace punt {

void NameThisThread(std::string_view name);

}  // namespace punt
