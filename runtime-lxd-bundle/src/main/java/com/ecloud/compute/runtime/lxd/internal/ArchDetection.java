package com.ecloud.compute.runtime.lxd.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import com.ecloud.compute.api.model.Arch;

/**
 * The arches an LXD host runs: those LXD reports ({@code environment.architectures}, e.g. x86_64 and i686), and
 * arm64 where binfmt_misc has an enabled {@code qemu-aarch64} entry. LXD itself refuses aarch64 images on an
 * x86_64 host, so lxd-host.sh imports them as the host's arch and qemu-user runs them (LXD-NOTES.md).
 */
final class ArchDetection {

    static final Path BINFMT_MISC = Path.of("/proc/sys/fs/binfmt_misc");

    private ArchDetection() {
    }

    static Set<Arch> detect(List<String> lxdArchitectures, Path binfmtMisc) {
        Set<Arch> arches = EnumSet.noneOf(Arch.class);
        for (String name : lxdArchitectures) Arch.parse(name).ifPresent(arches::add);
        if (binfmtMisc != null && !arches.contains(Arch.ARM64) && enabled(binfmtMisc.resolve("qemu-aarch64"))) {
            arches.add(Arch.ARM64);
        }
        return arches;
    }

    private static boolean enabled(Path entry) {
        try {
            return Files.isRegularFile(entry) && Files.readAllLines(entry).stream().findFirst()
                    .map(first -> first.trim().equals("enabled")).orElse(false);
        } catch (IOException | SecurityException e) {
            return false;
        }
    }
}
