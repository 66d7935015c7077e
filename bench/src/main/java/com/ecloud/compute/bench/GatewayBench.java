package com.ecloud.compute.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Rule added -> first routed request, through the ingress gateway: POST an ingress rule, then send GET requests
 * with the container's Host header to the gateway until one is answered 200 by the container, then DELETE the rule
 * and wait until the gateway answers 404 again. Twice: a rule on port 80 (its listener is always open) and a rule
 * on a port of 8000-8999 that no rule used before (the gateway opens a listener for it).
 *
 * <p>Arguments: --api URL --token T --container ID --domain D --offset N --rule-port P --target-port T --runs N
 * --warmups N (3, not counted)
 */
public final class GatewayBench {

    private GatewayBench() {
    }

    public static void main(String[] args) throws Exception {
        Options o = Options.parse(args);
        PlatformApi api = new PlatformApi(HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build(),
                o.require("api"), o.require("token"));
        String id = o.require("container");
        String host = id + ".compute." + o.get("domain", "localhost");
        int offset = o.intOption("offset", 10000);
        int targetPort = o.intOption("target-port", 8080);
        int runs = o.intOption("runs", 20);
        int warmups = o.intOption("warmups", 3);
        int failed = 0;
        for (int rulePort : new int[] {80, o.intOption("rule-port", 8500)}) {
            List<Double> sincePost = new ArrayList<>();
            List<Double> sinceAnswer = new ArrayList<>();
            for (int i = -warmups; i < runs; i++) {
                long t0 = System.nanoTime();
                api.post("/compute/containers/" + id + "/ingress",
                        "{\"port\":" + rulePort + ",\"target_port\":" + targetPort + "}").expect(201);
                long answered = System.nanoTime();
                long routed = awaitStatus(host, rulePort + offset, 200, Duration.ofSeconds(5));
                if (routed < 0) {
                    failed++;
                } else if (i >= 0) { // warm-ups (JIT, first connections) are not counted
                    sincePost.add((routed - t0) / 1e6);
                    sinceAnswer.add((routed - answered) / 1e6);
                }
                api.delete("/compute/containers/" + id + "/ingress/" + rulePort).expect(200);
                // the rule is gone: 404 on 80; on a rule port the listener closes (connection refused)
                awaitStatus(host, rulePort + offset, rulePort == 80 ? 404 : -1, Duration.ofSeconds(5));
            }
            String what = rulePort == 80 ? "port 80 (listener open)" : "port " + rulePort + " (listener opened for it)";
            Figures.printQuantiles("rule on " + what + ": POST sent -> first 200", sincePost);
            Figures.printQuantiles("rule on " + what + ": POST answered -> first 200", sinceAnswer);
        }
        System.out.println("goal: rule added -> first routed request < 100 ms; failed runs: " + failed);
        if (failed > 0) System.exit(2);
    }

    /**
     * Sends GET / with {@code host} to 127.0.0.1:{@code port} until the answer's status is {@code wanted} (-1: until
     * the connection is refused); the time it was, or -1 when it never was.
     */
    private static long awaitStatus(String host, int port, int wanted, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            int status = status(host, port);
            if (status == wanted) return System.nanoTime();
            Thread.sleep(0, 200_000);
        }
        return -1;
    }

    /** The status of one GET / on a fresh connection; -1 when the connection is refused or fails. */
    private static int status(String host, int port) {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout(5000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            byte[] head = new byte[12];
            int n = in.readNBytes(head, 0, head.length);
            if (n < 12) return -1;
            return Integer.parseInt(new String(head, 9, 3, StandardCharsets.US_ASCII));
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }
}
