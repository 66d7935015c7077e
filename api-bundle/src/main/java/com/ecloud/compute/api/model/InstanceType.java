package com.ecloud.compute.api.model;

import java.util.Locale;
import java.util.Optional;

/** The fixed instance types of the contract: an architecture and a CPU limit (a limit, not a reservation). */
public enum InstanceType {
    NANO(Arch.ARM64, 500),
    MICRO(Arch.ARM64, 1000),
    MINI(Arch.ARM64, 2000),
    TINY(Arch.AMD64, 1000),
    SMALL(Arch.AMD64, 2000),
    MEDIUM(Arch.AMD64, 4000);

    /** The type used when a create request names none. */
    public static final InstanceType DEFAULT = NANO;

    private final Arch arch;
    private final int cpuMillis;

    InstanceType(Arch arch, int cpuMillis) {
        this.arch = arch;
        this.cpuMillis = cpuMillis;
    }

    public Arch arch() { return arch; }

    /** CPU limit in thousandths of a core (500 = half a core). */
    public int cpuMillis() { return cpuMillis; }

    /** The lower-case name used in the API. */
    public String id() { return name().toLowerCase(Locale.ROOT); }

    /** Exact, case-sensitive match on the API name ("nano", not "NANO"). */
    public static Optional<InstanceType> parse(String id) {
        for (InstanceType t : values()) {
            if (t.id().equals(id)) return Optional.of(t);
        }
        return Optional.empty();
    }
}
