// Fuzz target: saved RL optimizer state (RlOptimizer::restore, also reached
// through CarbonAwareResourceAllocator::restore_optimizer). Oracles: a
// restored state saves to text that restores again and saves identically
// (restore(save(x)) is a fixed point), so nothing accepted is lost or
// reinterpreted on the next save.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "carbonkube/rl.hpp"
#include "fuzz_common.hpp"

using namespace carbonkube;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = ck_fuzz::as_text(data, size);
  std::optional<RlOptimizer> restored;
  if (!ck_fuzz::expect_ok_or_error(
          [&] { restored.emplace(RlOptimizer::restore(text, ck_fuzz::kSource)); }))
    return 0;
  const std::string saved = restored->save();
  std::optional<RlOptimizer> again;
  if (!ck_fuzz::expect_ok_or_error([&] { again.emplace(RlOptimizer::restore(saved, "resaved")); },
                                   "resaved"))
    ck_fuzz::bug("a restored state does not restore after saving", saved.c_str());
  ck_fuzz::check(again->save() == saved, "save(restore(save(x))) differs from save(x)");
  ck_fuzz::check(again->decisions() == restored->decisions(), "decision count changed");
  return 0;
}
