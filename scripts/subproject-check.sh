#!/usr/bin/env bash
# The three ways into weft, each building and running the C and C++
# consumers of tests/consumer against weft from outside:
#   1. meson subproject, default_library=static: the consumer links no
#      libweft.so, and weft installs nothing into the consumer's prefix;
#   2. meson subproject, default_library=shared: the consumer needs
#      libweft.so.MAJOR; with install=true the subproject does install;
#   3. weft installed into a temporary prefix, then consumers built with
#      pkg-config and with CMake find_package(weft) (shared and static);
# plus a configure-only check that subproject('weft') after a found system
# weft does not fail on the dependency override.
# Usage: scripts/subproject-check.sh   (about 3 weft builds; uses -j2)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
jobs=(-j 2)
cons=$root/tests/consumer
strict="-Wall -Wextra -Wpedantic -Wcast-qual -Wfloat-equal -Wshadow -Wundef -Werror"
soname=$(sed -n "s/^  version : '\([0-9]*\)\..*/\1/p" "$root/meson.build")
[ -n "$soname" ] || { echo "cannot read the version from meson.build" >&2; exit 1; }

fail() { echo "subproject-check: $*" >&2; exit 1; }
quiet() { "$@" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; fail "failed: $*"; }; }
needs_libweft() { readelf -d "$1" | grep -q "NEEDED.*libweft\.so\.$soname\b"; }
run_both() { # dir: run the two consumers built there
    "$1/consumer_c"
    "$1/consumer_cpp"
}

# ---- a meson consumer project with weft under subprojects/ -------------------
mkproject() { # dir, meson arguments of subproject()
    mkdir -p "$1/subprojects"
    ln -s "$root" "$1/subprojects/weft"
    cp "$cons"/consumer.c "$cons"/consumer.cpp "$cons"/layout_c.c "$cons"/layout.h "$cons"/initialisers.inc "$1/"
    cat >"$1/meson.build" <<MESON
project('consumer', 'c', 'cpp', default_options : ['c_std=c11', 'cpp_std=c++11', 'warning_level=3', 'werror=true'])
weft_dep = dependency('weft', fallback : ['weft', 'weft_dep'], $2)
args = ['-Wcast-qual', '-Wfloat-equal', '-Wshadow', '-Wundef']
executable('consumer_c', 'consumer.c', c_args : args, dependencies : weft_dep, install : true)
executable('consumer_cpp', 'consumer.cpp', 'layout_c.c', c_args : args, cpp_args : args,
  dependencies : weft_dep, install : true)
MESON
}

echo "-- 1. meson subproject, default_library=static"
mkproject "$tmp/static" "default_options : ['default_library=static']"
quiet meson setup "$tmp/static/build" "$tmp/static" --prefix="$tmp/static/prefix" --wrap-mode=forcefallback
quiet ninja "${jobs[@]}" -C "$tmp/static/build"
[ ! -e "$tmp/static/build/subprojects/weft/tests" ] || fail "weft built its tests as a subproject"
[ -e "$tmp/static/build/subprojects/weft/libweft.a" ] || fail "no libweft.a in the static subproject build"
! ls "$tmp/static/build/subprojects/weft/"libweft.so* >/dev/null 2>&1 || fail "the static subproject build made libweft.so"
! needs_libweft "$tmp/static/build/consumer_c" || fail "a static subproject consumer needs libweft.so"
run_both "$tmp/static/build"
quiet meson install -C "$tmp/static/build"
installed=$(cd "$tmp/static/prefix" && find . -type f ! -name 'consumer_c*' | sort)
[ -z "$installed" ] || fail "the subproject installed into the consumer's prefix: $installed"

echo "-- 2. meson subproject, default_library=shared, install=true"
mkproject "$tmp/shared" "default_options : ['default_library=shared', 'install=true']"
quiet meson setup "$tmp/shared/build" "$tmp/shared" --prefix="$tmp/shared/prefix" --wrap-mode=forcefallback
quiet ninja "${jobs[@]}" -C "$tmp/shared/build"
needs_libweft "$tmp/shared/build/consumer_c" || fail "a shared subproject consumer does not need libweft.so.$soname"
run_both "$tmp/shared/build"
quiet meson install -C "$tmp/shared/build"
for f in include/weft.h include/weft/sync.h; do
    [ -e "$tmp/shared/prefix/$f" ] || fail "install=true did not install $f"
done
ls "$tmp/shared/prefix"/lib*/libweft.so.$soname >/dev/null 2>&1 ||
    ls "$tmp/shared/prefix"/lib/*/libweft.so.$soname >/dev/null 2>&1 || fail "install=true did not install libweft.so.$soname"

echo "-- 3. installed weft: pkg-config and CMake consumers"
prefix=$tmp/prefix
quiet meson setup "$tmp/weft-build" "$root" --prefix="$prefix" --libdir=lib -Dtests=false -Dbench=false
quiet ninja "${jobs[@]}" -C "$tmp/weft-build"
quiet meson install -C "$tmp/weft-build"
for f in include/weft.h lib/pkgconfig/weft.pc lib/cmake/weft/weftConfig.cmake \
    lib/cmake/weft/weftConfigVersion.cmake lib/libweft.a "lib/libweft.so.$soname"; do
    [ -e "$prefix/$f" ] || fail "not installed: $f"
done
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
mkdir "$tmp/pc"
# shellcheck disable=SC2086,SC2046
{
    gcc -std=c11 $strict -Wstrict-prototypes -Wmissing-prototypes -I"$cons" "$cons/consumer.c" \
        -o "$tmp/pc/consumer_c" $(pkg-config --cflags --libs weft)
    gcc -std=c11 $strict -c "$cons/layout_c.c" -o "$tmp/pc/layout_c.o" $(pkg-config --cflags weft)
    g++ -std=c++17 $strict -I"$cons" "$cons/consumer.cpp" "$tmp/pc/layout_c.o" -o "$tmp/pc/consumer_cpp" \
        $(pkg-config --cflags --libs weft)
}
LD_LIBRARY_PATH=$prefix/lib run_both "$tmp/pc"
# shellcheck disable=SC2046
gcc -std=c11 $strict "$cons/consumer.c" -o "$tmp/pc/consumer_c_static" \
    $(pkg-config --cflags weft) "$prefix/lib/libweft.a" $(pkg-config --static --libs-only-l weft | sed 's/-lweft//')
! needs_libweft "$tmp/pc/consumer_c_static" || fail "the static pkg-config consumer needs libweft.so"
"$tmp/pc/consumer_c_static"

mkdir "$tmp/cm"
cp "$cons"/consumer.c "$cons"/consumer.cpp "$cons"/layout_c.c "$cons"/layout.h "$cons"/initialisers.inc "$tmp/cm/"
cat >"$tmp/cm/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.13)
project(consumer C CXX)
set(CMAKE_C_STANDARD 11)
set(CMAKE_CXX_STANDARD 14)
find_package(weft 0.1 REQUIRED)
if(NOT weft_VERSION STREQUAL "$(sed -n "s/^  version : '\(.*\)',/\1/p" "$root/meson.build")")
  message(FATAL_ERROR "weft_VERSION is \${weft_VERSION}")
endif()
add_compile_options($strict)
add_executable(consumer_c consumer.c)
target_link_libraries(consumer_c PRIVATE weft::weft)
add_executable(consumer_cpp consumer.cpp layout_c.c)
target_link_libraries(consumer_cpp PRIVATE weft::weft)
add_executable(consumer_c_static consumer.c)
target_link_libraries(consumer_c_static PRIVATE weft::weft_static)
CMAKE
quiet cmake -S "$tmp/cm" -B "$tmp/cm/build" -DCMAKE_PREFIX_PATH="$prefix"
quiet cmake --build "$tmp/cm/build" "${jobs[@]}"
needs_libweft "$tmp/cm/build/consumer_c" || fail "weft::weft is not the shared library"
! needs_libweft "$tmp/cm/build/consumer_c_static" || fail "weft::weft_static needs libweft.so"
run_both "$tmp/cm/build"   # RPATH set by CMake for imported locations
"$tmp/cm/build/consumer_c_static"
# A version that is not compatible must not be found.
sed -i 's/find_package(weft 0.1 REQUIRED)/find_package(weft 99 REQUIRED)/' "$tmp/cm/CMakeLists.txt"
! cmake -S "$tmp/cm" -B "$tmp/cm/build99" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null 2>&1 ||
    fail "find_package(weft 99) accepted weft $(pkg-config --modversion weft)"

echo "-- 4. subproject('weft') after a found system weft (configure only)"
mkdir -p "$tmp/override/subprojects"
ln -s "$root" "$tmp/override/subprojects/weft"
cat >"$tmp/override/meson.build" <<'MESON'
project('override', 'c')
system_weft = dependency('weft', allow_fallback : false)
weft_sub = subproject('weft', default_options : ['tests=false', 'bench=false'])
MESON
meson setup "$tmp/override/build" "$tmp/override" >"$tmp/log" 2>&1 || { cat "$tmp/log"; false; } || fail "subproject('weft') after a found system weft failed"

echo "subproject-check: static and shared subprojects, pkg-config and CMake consumers, override guard: ok"
