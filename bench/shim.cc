// bench/shim.cc: registers the C cases of bench/ with Google Benchmark.
//
// Every (case, implementation, argument, thread count) becomes one benchmark
// named "case/impl[/arg:N]/threads:T", timed in wall-clock time
// (UseRealTime), one iteration per round of the case, after one untimed
// warm-up round. Items processed give
// items_per_second; latency samples become <series>_p50_ns / _p99_ns counters;
// other counters are averaged over the rounds.
//
// Options of our own (anything else goes to Google Benchmark):
//   --wb_threads=1,2,4      the thread sweep (default 1,2,4,8,16; env WB_THREADS)
//   --wb_max_threads=N      drop sweep entries above N (env WB_MAX_THREADS)
//   --wb_smoke              smoke sizes, sweep 1,2, one round per run
//   --wb_size=N             problem size N instead of the case's (e.g. fib(35);
//                           tools/callgrind_spawn.sh runs fib(18) and fib(20))
//   --wb_describe           print the cases as JSON and exit (for tools/bench_report.py)
#include "bench.h"

#include <benchmark/benchmark.h>

// Under `valgrind --tool=callgrind --instr-atstart=no`, only the timed rounds
// are instrumented (tools/callgrind_spawn.py): the warm-up round, set-up,
// tear-down and idle workers between rounds are left out. Outside valgrind
// these are a few no-op instructions.
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define WB_INSTR_START() CALLGRIND_START_INSTRUMENTATION
#define WB_INSTR_STOP() CALLGRIND_STOP_INSTRUMENTATION
#else
#define WB_INSTR_START() ((void)0)
#define WB_INSTR_STOP() ((void)0)
#endif

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

struct wb_round {
    std::map<std::string, std::vector<double>> samples;
    std::map<std::string, std::pair<double, long>> counters; // sum, count
};

extern "C" void wb_sample(wb_round *r, const char *series, double ns)
{
    r->samples[series].push_back(ns);
}

extern "C" void wb_counter(wb_round *r, const char *name, double value)
{
    auto &c = r->counters[name];
    c.first += value;
    c.second += 1;
}

namespace
{

struct Entry {
    const wb_case *c;
    const wb_impl *impl;
};

std::vector<Entry> &registry()
{
    static std::vector<Entry> entries;
    return entries;
}

double percentile(std::vector<double> &v, double q)
{
    if (v.empty())
        return 0;
    size_t k = (size_t)std::floor(q * (double)(v.size() - 1) + 0.5);
    std::nth_element(v.begin(), v.begin() + (long)k, v.end());
    return v[k];
}

void run_case(benchmark::State &st, const wb_impl *im, wb_params p)
{
    const char *why = "not available";
    void *ctx = im->setup(&p, &why);
    if (ctx == nullptr) {
        st.SkipWithError(why);
        return;
    }
    // One untimed round first: lazily started threads (OpenMP's team, TBB's
    // workers) and cold caches would otherwise be charged to the first round.
    wb_round warm_up;
    im->run(ctx, &warm_up);
    wb_round round;
    uint64_t items = 0;
    WB_INSTR_START();
    for (auto _ : st)
        items += im->run(ctx, &round);
    WB_INSTR_STOP();
    im->teardown(ctx);
    st.SetItemsProcessed((int64_t)items);
    for (auto &s : round.samples) {
        st.counters[s.first + "_p50_ns"] = percentile(s.second, 0.50);
        st.counters[s.first + "_p99_ns"] = percentile(s.second, 0.99);
    }
    for (auto &k : round.counters)
        st.counters[k.first] = k.second.first / (double)k.second.second;
}

std::vector<int> parse_list(const char *s)
{
    std::vector<int> out;
    while (s != nullptr && *s != '\0') {
        char *end = nullptr;
        long v = std::strtol(s, &end, 10);
        if (end == s)
            break;
        if (v > 0)
            out.push_back((int)v);
        s = *end == ',' ? end + 1 : end;
    }
    return out;
}

std::string json_str(const char *s)
{
    std::string out = "\"";
    for (; s != nullptr && *s != '\0'; s++) {
        if (*s == '"' || *s == '\\')
            out += '\\';
        out += *s;
    }
    return out + "\"";
}

void describe()
{
    std::map<std::string, std::pair<const wb_case *, std::vector<std::string>>> cases;
    std::vector<std::string> order;
    for (auto &e : registry()) {
        auto it = cases.find(e.c->name);
        if (it == cases.end()) {
            order.push_back(e.c->name);
            it = cases.emplace(e.c->name, std::make_pair(e.c, std::vector<std::string>())).first;
        }
        it->second.second.push_back(e.impl->name);
    }
    std::printf("{\"cases\": [\n");
    for (size_t i = 0; i < order.size(); i++) {
        const wb_case *c = cases[order[i]].first;
        std::printf("  {\"name\": %s, \"what\": %s, \"item\": %s, \"baseline\": %s, \"metric\": %s, "
                    "\"lower_is_better\": %s, \"sweep\": %s, \"fixed_threads\": %d, \"size\": %ld, "
                    "\"smoke_size\": %ld, \"arg_name\": %s, \"impls\": [",
                    json_str(c->name).c_str(), json_str(c->what).c_str(), json_str(c->item).c_str(),
                    json_str(c->baseline).c_str(), json_str(c->metric).c_str(),
                    c->lower_is_better ? "true" : "false", c->threads_mode == WB_SWEEP ? "true" : "false",
                    c->fixed_threads, c->size, c->smoke_size,
                    c->arg_name ? json_str(c->arg_name).c_str() : "null");
        auto &impls = cases[order[i]].second;
        for (size_t j = 0; j < impls.size(); j++)
            std::printf("%s%s", j ? ", " : "", json_str(impls[j].c_str()).c_str());
        std::printf("]}%s\n", i + 1 < order.size() ? "," : "");
    }
    std::printf("]}\n");
}

} // namespace

extern "C" void wb_register(const wb_case *c, const wb_impl *impls, size_t n_impls)
{
    for (size_t i = 0; i < n_impls; i++)
        registry().push_back(Entry{c, &impls[i]});
}

int main(int argc, char **argv)
{
    bool smoke = false;
    bool want_describe = false;
    const char *threads_opt = std::getenv("WB_THREADS");
    int max_threads = 0;
    long size_override = 0;
    if (const char *m = std::getenv("WB_MAX_THREADS"))
        max_threads = std::atoi(m);

    std::vector<char *> rest;
    rest.push_back(argv[0]);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (std::strncmp(a, "--wb_threads=", 13) == 0)
            threads_opt = a + 13;
        else if (std::strncmp(a, "--wb_max_threads=", 17) == 0)
            max_threads = std::atoi(a + 17);
        else if (std::strncmp(a, "--wb_size=", 10) == 0)
            size_override = std::atol(a + 10);
        else if (std::strcmp(a, "--wb_smoke") == 0)
            smoke = true;
        else if (std::strcmp(a, "--wb_describe") == 0)
            want_describe = true;
        else if (std::strncmp(a, "--wb_", 5) == 0) {
            std::fprintf(stderr, "%s: unknown option %s\n", argv[0], a);
            return 2;
        } else
            rest.push_back(argv[i]);
    }
    if (want_describe) {
        describe();
        return 0;
    }

    std::vector<int> sweep = parse_list(threads_opt);
    if (sweep.empty())
        sweep = smoke ? std::vector<int>{1, 2} : std::vector<int>{1, 2, 4, 8, 16};
    if (max_threads > 0)
        sweep.erase(std::remove_if(sweep.begin(), sweep.end(), [&](int t) { return t > max_threads; }),
                    sweep.end());

    for (auto &e : registry()) {
        const wb_case *c = e.c;
        std::vector<int> counts = c->threads_mode == WB_SWEEP ? sweep : std::vector<int>{c->fixed_threads};
        if (c->threads_mode == WB_SWEEP && c->max_threads > 0)
            counts.erase(
                std::remove_if(counts.begin(), counts.end(), [&](int t) { return t > c->max_threads; }),
                counts.end());
        int n_args = c->arg_name ? c->n_args : 1;
        for (int a = 0; a < n_args; a++) {
            for (int t : counts) {
                wb_params p;
                p.threads = t;
                p.arg = c->arg_name ? c->args[a] : 0;
                p.size = size_override > 0 ? size_override : smoke ? c->smoke_size : c->size;
                p.smoke = smoke;
                std::string name = std::string(c->name) + "/" + e.impl->name;
                if (c->arg_name)
                    name += "/" + std::string(c->arg_name) + ":" + std::to_string(p.arg);
                name += "/threads:" + std::to_string(t);
                const wb_impl *im = e.impl;
                auto *b = benchmark::RegisterBenchmark(
                    name.c_str(), [im, p](benchmark::State &st) { run_case(st, im, p); });
                b->UseRealTime()->Unit(benchmark::kMicrosecond);
                if (smoke)
                    b->Iterations(1)->Repetitions(1);
            }
        }
    }

    benchmark::AddCustomContext("wb_smoke", smoke ? "1" : "0");
    int rest_argc = (int)rest.size();
    benchmark::Initialize(&rest_argc, rest.data());
    if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data()))
        return 2;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
