// bncheck: proves batch-normalization kernels right against an exact
// reference. Argument parsing only; the work is in the *_command.cpp files.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.hpp"
#include "cli/exchange_commands.hpp"
#include "core/error.hpp"
#include "core/kernel.hpp"
#include "kernels/registry.hpp"
#include "mutants/catalog.hpp"
#include "properties/runner.hpp"

int main(int argc, char** argv) {
  using namespace bncheck;
  CLI::App app{
      "bncheck: checks batch-normalization kernels against a multiprecision reference.\n"
      "Exit status: 0 all pass, 1 a check failed, 2 usage or bad input, 3 an internal error."};
  app.require_subcommand(1);

  cli::run_options ro;
  std::string kernels;
  for (const auto& k : kernel_names()) kernels += (kernels.empty() ? "" : ", ") + k;
  kernels += "; broken on purpose, for demonstration:";
  for (const auto& k : mutants::mutant_names()) kernels += " " + k;
  auto* run = app.add_subcommand("run", "Run the gate: judge a kernel on the golden corpus and the properties (or on --problem).");
  run->add_option("--kernel", ro.kernel, "kernel to judge: a plugin .so path (docs/plugins.md), or " + kernels)->capture_default_str();
  run->add_option("--golden", ro.golden, "golden corpus folder")->capture_default_str();
  run->add_option("--case", ro.cases, "run only this golden case (repeatable)");
  run->add_option("--problem", ro.problems,
                  "run a generated problem given in its text form instead of the corpus (repeatable), e.g.\n"
                  "'forward_training nchw f32:f32 mb2ic3ih4iw4 eps=1e-05 momentum=0.1 profile=pytorch seed=1'");
  run->add_flag("--quiet", ro.quiet, "print only failures and the summary");
  cli::add_run_extras(*run, ro.extras);
  run->add_option("--cases", ro.property_cases, "cases per property (default " + std::to_string(properties::default_cases) +
                                           "; --nightly " + std::to_string(properties::nightly_cases) + ")");
  run->add_option("--seed", ro.seed,
                  "seed of the property run: a number, or 'random' (default " +
                      std::to_string(properties::default_seed) + ", fixed so that runs reproduce)");
  run->add_flag("--nightly", ro.nightly, "10^4 cases per property and long reductions up to 2^20");
  run->add_flag("--no-properties", ro.no_properties, "run the golden corpus only");
  run->add_option("--property", ro.properties, "run only this property, not the corpus (repeatable)");
  run->add_option("--reproduce", ro.reproduce,
                  "replay a property failure from the reproduce string it printed (implies its --property)");
  run->add_option("--save-regressions", ro.save_regressions,
                  "write each failing property's shrunk case into this folder as a golden case");
  run->add_option("--deviations", ro.deviations,
                  "the kernel's known deviations (docs/deviations.md), e.g. adapters/libtorch/deviations: the golden "
                  "cases it lists fail as recorded and are reported as 'known'; one that passes again fails the run; "
                  "its excludes narrow the properties, and are printed");
  run->add_flag("--known-model-gaps", ro.known_model_gaps,
                "also generate the problems where the tolerance model is known to be incomplete "
                "(docs/properties.md, Known gaps); our kernel fails some of them");

  auto* golden = app.add_subcommand("golden", "Regenerate or verify the golden corpus.");
  golden->require_subcommand(1);
  std::string regen_dir = "golden/cases", verify_dir = "golden/cases";
  auto* regen = golden->add_subcommand(
      "regen", "Regenerate every case byte for byte from its problem; the old corpus is swapped out atomically.");
  regen->add_option("--dir", regen_dir, "corpus folder")->capture_default_str();
  auto* verify = golden->add_subcommand(
      "verify", "Check format and checksums, and that every case regenerates to the same bytes.");
  verify->add_option("--dir", verify_dir, "corpus folder")->capture_default_str();

  cli::reference_options fo;
  auto* ref = app.add_subcommand(
      "reference",
      "Compute reference outputs for .npy inputs, as float64 .npy in --out, a new folder written whole or not at all.\n"
      "Reads x.npy, gamma.npy, beta.npy and optionally dy.npy, running_mean.npy, running_var.npy from --in.\n"
      "Without --op writes y, mean, var, invstd (and running_mean, running_var when given; dx, dgamma, dbeta\n"
      "when given dy). --op forward_training: the forward outputs only. --op forward_inference: y from\n"
      "running_mean.npy and running_var.npy (required). --op backward: dx, dgamma, dbeta and the batch mean,\n"
      "var, invstd they use, from x, gamma and dy (required).");
  ref->add_option("--in", fo.in, "folder of input .npy files")->required();
  ref->add_option("--out", fo.out, "output folder (must not exist or be empty)")->required();
  ref->add_option("--op", fo.op, "forward_training, forward_inference or backward (default: see above)");
  ref->add_option("--layout", fo.layout, "nc, nchw, nhwc, ncdhw or ndhwc")->capture_default_str();
  ref->add_option("--dtype", fo.dtype, "format of x when it is bf16 (stored as float32 in .npy)");
  ref->add_option("--eps", fo.eps, "epsilon inside the square root")->capture_default_str();
  ref->add_option("--momentum", fo.momentum, "momentum (meaning per --profile)")->capture_default_str();
  ref->add_option("--profile", fo.profile, "running-statistics convention: onnx, pytorch, cudnn")
      ->capture_default_str();

  std::string identify_kernel = "eigen";
  auto* ident = app.add_subcommand(
      "identify",
      "Probe a kernel's conventions: eps inside or outside the square root, biased or unbiased variance,\n"
      "momentum meaning, saved and running statistics, what backward reads, supported layouts and formats.");
  ident->add_option("--kernel", identify_kernel, "kernel to probe (as for run; controls too)")->capture_default_str();

  cli::mutants_options mo;
  auto* mut = app.add_subcommand(
      "mutants",
      "Measure detection power: every deliberately broken kernel of the catalog must fail the golden corpus or a\n"
      "property, every correct control must pass both. Prints which case or property killed each mutant, the shrunk\n"
      "counterexample's size, and 'killed K of N'; exit 0 only when all die and all controls pass.");
  mut->add_option("--golden", mo.golden, "golden corpus folder")->capture_default_str();
  mut->add_option("--seed", mo.seed, "run seed of the properties")->capture_default_str();
  mut->add_option("--cases", mo.cases, "cases per property")->capture_default_str()->check(CLI::PositiveNumber);

  cli::exchange_commands exchange;
  cli::add_exchange_commands(app, exchange);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "bncheck: " << e.what() << " (see bncheck --help)\n";
    return 2;
  } catch (const input_error& e) {  // an option parsed into its typed value as it is read (--shard)
    std::cerr << "bncheck: " << e.what() << "\n";
    return 2;
  }
  try {
    if (run->parsed()) return cli::run(ro);
    if (const auto status = cli::run_exchange_commands(exchange)) return *status;
    if (regen->parsed()) return cli::golden_regen(regen_dir);
    if (verify->parsed()) return cli::golden_verify(verify_dir);
    if (ref->parsed()) return cli::reference(fo);
    if (ident->parsed()) return cli::identify(identify_kernel);
    if (mut->parsed()) return cli::mutants_run(mo);
  } catch (const input_error& e) {
    std::cerr << "bncheck: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "bncheck: internal error: " << e.what() << "\n";
    return 3;
  }
  return 2;
}
