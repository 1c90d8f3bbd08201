#!/bin/sh
# /init of the project's Linux realm guest, run by busybox sh from the initramfs that
# `cargo xtask setup-guest` builds. It checks that it runs in a realm with the vCPUs and memory
# the runner configured, asks the kernel for a CCA attestation token over the runner's challenge,
# prints everything on the console and powers off.
#
# Kernel command line (read from /proc/cmdline):
#   rmm.vcpus=N              vCPUs the realm was created with
#   rmm.mem_mib=M            RAM the realm was given, in MiB
#   rmm.mem_margin_mib=K     how much less MemTotal may show (default 80: the kernel's own
#                            reservations, SWIOTLB with swiotlb=4096, the initramfs)
#   rmm.challenge=HEX        the 64-byte attestation challenge, as 128 hex digits
#   rmm.shell=1              after the checks, a busybox shell instead of powering off
#
# Console protocol (lines start with "rmm-guest: "):
#   CHECK <name> PASS|FAIL|SKIP <detail>   one per check
#   <NAME>-BEGIN bytes=N                    then the blob as lowercase hex, 32 bytes a line,
#   <NAME>-END bytes=N lines=L sha256=H     NAME is CHALLENGE (the echo) or TOKEN
#   VERDICT PASS|FAIL passed=P failed=F skipped=S
# then `poweroff -f` (PSCI SYSTEM_OFF).

export PATH=/bin
passed=0
failed=0
skipped=0

say() { echo "rmm-guest: $*"; }

check() {
    name=$1
    result=$2
    shift 2
    say "CHECK $name $result $*"
    case $result in
    PASS) passed=$((passed + 1)) ;;
    FAIL) failed=$((failed + 1)) ;;
    *) skipped=$((skipped + 1)) ;;
    esac
}

# print_blob NAME FILE: the file as hex lines between NAME-BEGIN and NAME-END markers.
print_blob() {
    bytes=$(wc -c <"$2")
    lines=$(((bytes + 31) / 32))
    sum=none
    if command -v sha256sum >/dev/null; then
        sum=$(sha256sum "$2" | cut -d' ' -f1)
    fi
    say "$1-BEGIN bytes=$bytes"
    od -An -v -tx1 "$2" | tr -d ' \n' | fold -w 64
    echo
    say "$1-END bytes=$bytes lines=$lines sha256=$sum"
}

# count_cpus LIST: how many CPUs a sysfs CPU list such as "0-3,5" names.
count_cpus() {
    n=0
    for r in $(echo "$1" | tr ',' ' '); do
        case $r in
        *-*) n=$((n + ${r#*-} - ${r%-*} + 1)) ;;
        *) n=$((n + 1)) ;;
        esac
    done
    echo $n
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Kernel messages would interleave with the protocol lines: keep them in the log buffer only.
dmesg -n 1
say "init started: $(uname -r) $(cat /proc/uptime | cut -d' ' -f1)s after boot"

vcpus=
mem_mib=
margin_mib=80
challenge=
shell=
for arg in $(cat /proc/cmdline); do
    case $arg in
    rmm.vcpus=*) vcpus=${arg#*=} ;;
    rmm.mem_mib=*) mem_mib=${arg#*=} ;;
    rmm.mem_margin_mib=*) margin_mib=${arg#*=} ;;
    rmm.challenge=*) challenge=${arg#*=} ;;
    rmm.shell=1) shell=1 ;;
    esac
done

# 1. A realm: the kernel found the RMM's RSI during boot.
realm=
if dmesg | grep -q "RME: Using RSI version 1.0"; then
    realm=1
    check realm PASS "RME: Using RSI version 1.0"
else
    check realm FAIL "no 'RME: Using RSI version 1.0' in the kernel log: not a realm"
fi

# 2. Every vCPU online.
online=$(cat /sys/devices/system/cpu/online)
n=$(count_cpus "$online")
if [ -z "$vcpus" ]; then
    check vcpus FAIL "online $online ($n), but no rmm.vcpus= on the command line"
elif [ "$n" = "$vcpus" ]; then
    check vcpus PASS "online $online ($n of $vcpus)"
else
    check vcpus FAIL "online $online ($n), expected $vcpus"
fi

# 3. The memory: MemTotal within [mem_mib - margin, mem_mib].
total_kib=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
if [ -z "$mem_mib" ]; then
    check memory FAIL "MemTotal $((total_kib / 1024)) MiB, but no rmm.mem_mib= on the command line"
elif [ "$total_kib" -le $((mem_mib * 1024)) ] && [ "$total_kib" -ge $(((mem_mib - margin_mib) * 1024)) ]; then
    check memory PASS "MemTotal $total_kib KiB of $mem_mib MiB (margin $margin_mib MiB)"
else
    check memory FAIL "MemTotal $total_kib KiB, expected $((mem_mib - margin_mib))..$mem_mib MiB"
fi

# 4. The attestation modules, in dependency order (the list is written by xtask from the
#    modules' own `depends=`), and configfs.
modules_ok=1
for ko in $(cat /lib/modules/order); do
    if err=$(insmod "/lib/modules/$ko" 2>&1); then
        check "module:${ko%.ko}" PASS "loaded"
    elif [ -z "$realm" ] && [ "$ko" = arm-cca-guest.ko ]; then
        # Its init refuses (ENODEV) outside a realm.
        check "module:${ko%.ko}" SKIP "not a realm: insmod: $err"
    else
        modules_ok=
        check "module:${ko%.ko}" FAIL "insmod: $err"
    fi
done
if mount -t configfs configfs /sys/kernel/config 2>/dev/null; then
    check configfs PASS "mounted on /sys/kernel/config"
else
    modules_ok=
    check configfs FAIL "cannot mount configfs on /sys/kernel/config"
fi

# 5. The runner's challenge, decoded to 64 bytes and echoed back.
challenge_ok=
if [ -z "$challenge" ]; then
    check challenge FAIL "no rmm.challenge= on the command line"
elif ! echo "$challenge" | grep -qE '^[0-9a-fA-F]{128}$'; then
    check challenge FAIL "rmm.challenge= is not 128 hex digits"
else
    printf "$(echo "$challenge" | sed 's/../\\x&/g')" >/tmp/challenge
    back=$(od -An -v -tx1 /tmp/challenge | tr -d ' \n')
    if [ "$back" = "$(echo "$challenge" | tr 'A-F' 'a-f')" ]; then
        challenge_ok=1
        check challenge PASS "64 bytes"
        print_blob CHALLENGE /tmp/challenge
    else
        check challenge FAIL "decoded to $(wc -c </tmp/challenge) bytes that differ from the hex"
    fi
fi

# 6. The attestation token over the challenge, through configfs-tsm (only a realm has one).
report=/sys/kernel/config/tsm/report/r0
if [ -z "$realm" ]; then
    check attestation SKIP "not a realm: no token to ask for"
elif [ -z "$modules_ok" ] || [ -z "$challenge_ok" ]; then
    check attestation FAIL "modules, configfs or challenge missing (see above)"
elif ! mkdir "$report" 2>/dev/null; then
    check attestation FAIL "cannot create $report (no TSM provider registered?)"
else
    provider=$(cat "$report/provider" 2>/dev/null)
    if ! cat /tmp/challenge >"$report/inblob"; then
        check attestation FAIL "writing inblob failed (provider '$provider')"
    elif ! timeout 120 cat "$report/outblob" >/tmp/token || [ ! -s /tmp/token ]; then
        check attestation FAIL "reading outblob failed or gave nothing (provider '$provider')"
    else
        check attestation PASS "provider $provider, token $(wc -c </tmp/token) bytes"
        print_blob TOKEN /tmp/token
    fi
fi

if [ "$failed" = 0 ]; then verdict=PASS; else verdict=FAIL; fi
say "VERDICT $verdict passed=$passed failed=$failed skipped=$skipped"

if [ -n "$shell" ]; then
    say "rmm.shell=1: a busybox shell (exit powers off)"
    /bin/busybox --install -s /bin
    setsid cttyhack sh
fi
say "powering off"
poweroff -f
