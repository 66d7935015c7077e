package com.ecloud.compute.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A fixed-concurrency, fixed-duration HTTP load: wrk when it is installed (its output parsed), otherwise a Java
 * load generator with the same shape (one thread per connection, each sending its next request as soon as the
 * previous answer arrived).
 */
final class LoadTest {

    /** One measured load: requests per second, latency percentiles in ms, answers that were not 2xx/3xx. */
    record Result(String tool, double requestsPerSecond, double p50Ms, double p90Ms, double p99Ms, long requests,
            long errors) {
    }

    private final String wrk; // null: the Java generator
    private final int threads;
    private final int connections;

    LoadTest(String wrk, int threads, int connections) {
        this.wrk = wrk == null || wrk.isBlank() ? null : wrk;
        this.threads = threads;
        this.connections = connections;
    }

    String tool() {
        return wrk != null ? "wrk -t" + threads + " -c" + connections : "java.net.http, " + connections + " connections";
    }

    Result run(String url, String bearer, int seconds) throws IOException, InterruptedException {
        return wrk != null ? runWrk(url, bearer, seconds) : runJava(url, bearer, seconds);
    }

    private Result runWrk(String url, String bearer, int seconds) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(wrk, "-t" + threads, "-c" + connections, "-d" + seconds + "s",
                "--latency", "--timeout", "5s"));
        if (bearer != null) command.addAll(List.of("-H", "Authorization: Bearer " + bearer));
        command.add(url);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        if (!p.waitFor(seconds + 60L, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("wrk did not finish");
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.exitValue() != 0) throw new IOException("wrk failed: " + out);
        return parseWrk(out);
    }

    static Result parseWrk(String out) throws IOException {
        Matcher rps = Pattern.compile("Requests/sec:\\s+([0-9.]+)").matcher(out);
        Matcher total = Pattern.compile("(\\d+) requests in").matcher(out);
        if (!rps.find() || !total.find()) throw new IOException("cannot read wrk's output:\n" + out);
        long errors = 0;
        Matcher non2xx = Pattern.compile("Non-2xx or 3xx responses:\\s+(\\d+)").matcher(out);
        if (non2xx.find()) errors += Long.parseLong(non2xx.group(1));
        Matcher socketErrors = Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)").matcher(out);
        if (socketErrors.find()) {
            for (int g = 1; g <= 4; g++) errors += Long.parseLong(socketErrors.group(g));
        }
        return new Result("wrk", Double.parseDouble(rps.group(1)), percentile(out, "50%"), percentile(out, "90%"),
                percentile(out, "99%"), Long.parseLong(total.group(1)), errors);
    }

    /** A line of wrk's latency distribution, e.g. {@code 99%    4.56ms}, in ms. */
    private static double percentile(String out, String label) throws IOException {
        Matcher m = Pattern.compile("\\s" + Pattern.quote(label) + "\\s+([0-9.]+)(us|ms|s|m)\\b").matcher(out);
        if (!m.find()) throw new IOException("no " + label + " latency in wrk's output:\n" + out);
        double v = Double.parseDouble(m.group(1));
        return switch (m.group(2)) {
            case "us" -> v / 1000;
            case "ms" -> v;
            case "s" -> v * 1000;
            default -> v * 60_000;
        };
    }

    private Result runJava(String url, String bearer, int seconds) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        AtomicLong errors = new AtomicLong();
        long[][] latencies = new long[connections][];
        int[] counts = new int[connections];
        Thread[] workers = new Thread[connections];
        for (int w = 0; w < connections; w++) {
            int me = w;
            workers[w] = new Thread(() -> {
                // one client per worker: one connection each, as a wrk connection
                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).GET();
                if (bearer != null) b.header("Authorization", "Bearer " + bearer);
                HttpRequest request = b.build();
                long[] mine = new long[1 << 16];
                int n = 0;
                while (System.nanoTime() < end && n < 5_000_000) {
                    long t = System.nanoTime();
                    try {
                        HttpResponse<byte[]> r = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
                        if (r.statusCode() >= 400) errors.incrementAndGet();
                    } catch (IOException e) {
                        errors.incrementAndGet();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                    if (n == mine.length) mine = Arrays.copyOf(mine, n * 2);
                    mine[n++] = System.nanoTime() - t;
                }
                latencies[me] = mine;
                counts[me] = n;
            }, "load-" + w);
            workers[w].start();
        }
        long started = System.nanoTime();
        for (Thread t : workers) t.join(TimeUnit.SECONDS.toMillis(seconds + 30L));
        double elapsed = (System.nanoTime() - started) / 1e9;
        int total = Arrays.stream(counts).sum();
        long[] all = new long[total];
        int k = 0;
        for (int w = 0; w < connections; w++) {
            if (latencies[w] != null) System.arraycopy(latencies[w], 0, all, k, counts[w]);
            k += counts[w];
        }
        Arrays.sort(all);
        return new Result("java", total / elapsed, at(all, 0.50), at(all, 0.90), at(all, 0.99), total, errors.get());
    }

    private static double at(long[] sorted, double q) {
        if (sorted.length == 0) return Double.NaN;
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e6;
    }
}
