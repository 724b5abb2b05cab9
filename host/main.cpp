// carbonkube-host: placeholder entry point until the host's modes land
// (issue 8); host/src/ holds the parts.
#include <cstdio>

int main() {
  std::fputs("carbonkube-host: not built yet\n", stderr);
  return 2;
}
