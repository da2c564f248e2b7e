#!/usr/bin/env bash
# tools/bundle.sh [OUT]: a self-contained copy of the benchmark suite, to run
# on a machine that has none of the packages installed (say a 16-core box):
#
#   OUT/bin/bench_weft, bench_omp_gomp, bench_omp_llvm   release builds
#   OUT/bin/lib/*.so*      every shared library they load (found with ldd),
#                          except the C library itself; the executables look
#                          there first (DT_RPATH $ORIGIN/lib, which also
#                          covers the libraries' own dependencies)
#   OUT/tools/             tools/bench.py and tools/bench_report.py
#   OUT/run.sh             runs the whole suite (python3 needed; gnuplot only
#                          for the plots, which can be drawn back home)
#
# OUT defaults to bundle/ (git-ignored). With WB_LACE_SRC=PATH (a Lace source
# tree) the Lace contenders are bundled too. liburcu is linked statically by the
# top meson.build, so it is not among the libraries. Copy OUT over, run
# OUT/run.sh there, bring OUT/results/ back and (re)draw the report with
#   tools/bench_report.py OUT/results/results.json --out REPORT.md --plots plots
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$root/bundle}")
build=${BUNDLE_BUILD_DIR:-$root/build-bundle}

# DT_RPATH (not RUNPATH: --disable-new-dtags) so that libraries loaded by the
# bundled libraries are found in lib/ too. Meson escapes the $ for ninja.
rpath='-Wl,-rpath,$ORIGIN/lib,--disable-new-dtags'
setup=(meson setup "$build" --buildtype=release -Dbench=true -Dtests=false -Dstatic_urcu=true
       "-Dc_link_args=$rpath" "-Dcpp_link_args=$rpath" "-Dlace_src=${WB_LACE_SRC:-}")
if [ -f "$build/build.ninja" ]; then
    setup+=(--reconfigure)
fi
echo "== configuring $build"
"${setup[@]}" >/dev/null
# Only the benchmark executables (and what they link): the rest of the tree
# need not build for the bundle.
targets=$(ninja -C "$build" -t targets all | sed -n 's#^\(bench/bench_[a-z_]*\):.*#\1#p' | sort -u)
echo "== building" $targets
if ! ninja -C "$build" $targets >"$build/bundle-build.log" 2>&1; then
    tail -40 "$build/bundle-build.log"
    echo "!! build failed"
    exit 1
fi

rm -rf "$out"
mkdir -p "$out/bin/lib" "$out/tools"
for exe in bench_weft bench_omp_gomp bench_omp_llvm bench_lace bench_lace14; do
    if [ -x "$build/bench/$exe" ]; then
        cp "$build/bench/$exe" "$out/bin/"
    else
        echo "-- $exe was not built (its peer is missing here): not bundled"
    fi
done

# The C library and the dynamic loader stay the target's own: they must match
# its kernel interface, and every Linux machine has them.
skip='^(linux-vdso|ld-linux|libc\.so|libm\.so|libpthread\.so|libdl\.so|librt\.so|libresolv\.so)'
for exe in "$out"/bin/bench_*; do
    ldd "$exe" | awk '/=> \// {print $1, $3}' | while read -r name path; do
        if [[ ! $name =~ $skip ]] && [ ! -e "$out/bin/lib/$name" ]; then
            cp -L "$path" "$out/bin/lib/$name"
        fi
    done
done

if ldd "$out"/bin/bench_* | grep -q 'liburcu'; then
    echo "!! liburcu is linked dynamically (no static archive?); it was copied into lib/ like the others"
fi

cp "$root/tools/bench.py" "$root/tools/bench_report.py" "$out/tools/"
cat >"$out/run.sh" <<'EOF'
#!/usr/bin/env bash
# Runs weft's benchmark suite from this bundle. Arguments go to tools/bench.py
# (e.g. --max-threads 8, --reps 3, --filter fib). Results: results/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/tools/bench.py" --bin-dir "$here/bin" --out "$here/results" "$@"
EOF
chmod +x "$out/run.sh"

echo "== bundle in $out:"
ls "$out/bin" "$out/bin/lib"
# Proof that it resolves from the bundle alone.
for exe in "$out"/bin/bench_*; do
    if ldd "$exe" | grep -q 'not found'; then
        echo "!! $exe has unresolved libraries:"
        ldd "$exe" | grep 'not found'
        exit 1
    fi
done
echo "== ok: run $out/run.sh on the target machine"
