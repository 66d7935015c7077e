package com.ecloud.compute.bench;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/** How the benchmarks print a sample of milliseconds and a ratio of two figures. */
final class Figures {

    private static final PrintStream OUT = System.out;

    private Figures() {
    }

    static void printQuantiles(String what, List<Double> ms) {
        OUT.printf("%-48s p50 %8s ms  p99 %8s ms  max %8s ms  (n=%d)%n", what, fmt2(Stats.median(ms)),
                fmt2(Stats.percentile(ms, 0.99)), fmt2(ms.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN)),
                ms.size());
    }

    /** "p50 / p99 ms" */
    static String pair(List<Double> ms) {
        return fmt2(Stats.median(ms)) + " / " + fmt2(Stats.percentile(ms, 0.99)) + " ms";
    }

    static String ratio(double a, double b) {
        return Double.isNaN(a) || Double.isNaN(b) || b == 0 ? "-" : String.format(Locale.ROOT, "%.2f", a / b);
    }

    static String fmt2(double value) {
        return Double.isNaN(value) ? "-" : String.format(Locale.ROOT, "%.2f", value);
    }
}
