package com.ecloud.compute.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Order statistics of a small sample. */
final class Stats {

    private Stats() {
    }

    static double median(List<Double> values) {
        List<Double> v = sorted(values);
        if (v.isEmpty()) return Double.NaN;
        int n = v.size();
        return n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
    }

    /** Nearest-rank percentile: the smallest value with at least q of the sample at or below it. */
    static double percentile(List<Double> values, double q) {
        List<Double> v = sorted(values);
        if (v.isEmpty()) return Double.NaN;
        int rank = (int) Math.ceil(q * v.size());
        return v.get(Math.max(0, Math.min(v.size() - 1, rank - 1)));
    }

    private static List<Double> sorted(List<Double> values) {
        List<Double> v = new ArrayList<>();
        for (Double d : values) if (d != null && !d.isNaN()) v.add(d);
        Collections.sort(v);
        return v;
    }
}
