#!/usr/bin/env bash
# CI: verify every Promela model in tests/model/ with spin.
#
# A model names its runs in comment lines (any number of each):
#   spin-run:  SPIN_FLAGS | PAN_FLAGS [| CC_FLAGS]   must verify with 0 errors
#   spin-fail: SPIN_FLAGS | PAN_FLAGS [| CC_FLAGS]   must find an error (a
#                                                    known-buggy variant, -DBUGGY)
# SPIN_FLAGS go to `spin -a` (-DNAME=V selects a variant), PAN_FLAGS to ./pan,
# CC_FLAGS to gcc when building pan. Without CC_FLAGS pan is built with
# -DSAFETY (assertions and invalid end states), or -DNP when PAN_FLAGS has -l
# (non-progress cycles), or plainly when it has -a (acceptance cycles: ltl).
# A model with no such line gets one safety run. Prints the states explored
# per run; exits non-zero on the first run that does not come out as stated.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v spin >/dev/null || { echo "ci-model: spin is not installed (apt-get install spin)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
runs=0
for model in tests/model/*.pml; do
    name=$(basename "$model" .pml)
    lines=$(grep -E '^\s*\*?\s*spin-(run|fail):' "$model" | sed -E 's/^\s*\*?\s*//; s/\s*\*\/\s*$//' || true)
    [ -n "$lines" ] || lines="spin-run: |"
    while IFS= read -r line; do
        kind=${line%%:*}
        rest=${line#*:}
        IFS='|' read -r sflags pflags cflags <<<"$rest"
        sflags=$(echo "$sflags" | xargs)
        pflags=$(echo "$pflags" | xargs)
        cflags=$(echo "${cflags:-}" | xargs)
        if [ -z "$cflags" ]; then
            case " $pflags " in
            *" -a "*) cflags="" ;;
            *" -l "*) cflags="-DNP" ;;
            *) cflags="-DSAFETY" ;;
            esac
        fi
        dir="$work/$name.$runs"
        runs=$((runs + 1))
        mkdir -p "$dir"
        cp "$model" "$dir/"
        # shellcheck disable=SC2086
        (cd "$dir" && spin -a $sflags "$name.pml" >spin.out 2>&1 &&
            gcc -O1 -w $cflags -DMEMLIM=2048 -o pan pan.c >cc.out 2>&1 &&
            timeout 300 ./pan -m1000000 $pflags >pan.out 2>&1) || true
        if [ ! -s "$dir/pan.out" ]; then
            echo "FAIL $name [$sflags | $pflags]: spin or gcc failed" >&2
            cat "$dir/spin.out" "$dir"/cc.out 2>/dev/null | head -20 >&2
            status=1
            continue
        fi
        errors=$(sed -nE 's/.*errors: ([0-9]+).*/\1/p' "$dir/pan.out" | head -1)
        states=$(sed -nE 's/^ *([0-9e+.]+) states, stored.*/\1/p' "$dir/pan.out" | head -1)
        depth_short=$(grep -c 'max search depth too small' "$dir/pan.out" || true)
        verdict=ok
        if [ -z "$errors" ]; then
            verdict="no verdict"
        elif [ "$kind" = spin-run ] && { [ "$errors" != 0 ] || [ "$depth_short" != 0 ]; }; then
            verdict="errors: $errors (expected none)"
        elif [ "$kind" = spin-fail ] && [ "$errors" = 0 ]; then
            verdict="no error found (this variant must fail)"
        fi
        printf '%-4s %-12s %-5s spin [%s] pan [%s]: %s states, errors %s\n' \
            "$([ "$verdict" = ok ] && echo ok || echo FAIL)" "$name" "${kind#spin-}" "$sflags" "$pflags" \
            "${states:-?}" "${errors:-?}"
        if [ "$verdict" != ok ]; then
            echo "  $verdict" >&2
            grep -E 'pan:|assertion|invalid end|acceptance|non-progress' "$dir/pan.out" | head -10 >&2 || true
            status=1
        fi
    done <<<"$lines"
done
exit $status
