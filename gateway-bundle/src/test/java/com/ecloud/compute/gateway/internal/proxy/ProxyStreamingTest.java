package com.ecloud.compute.gateway.internal.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.io.OutputStream;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * 50 MiB bodies both ways while the receiving side is slow: the proxy must stream and push back (stop reading
 * the fast side) instead of buffering, so direct memory stays far below the body size.
 */
class ProxyStreamingTest {
    private static final long BODY_BYTES = 50L * 1024 * 1024;
    /** Well below the body: a proxy that buffered the body would need at least 50 MiB. */
    private static final long MEMORY_BOUND_BYTES = 16L * 1024 * 1024;
    private TestBackend backend;
    private ProxyFixture proxy;
    private final AtomicLong peakDirectMemory = new AtomicLong();
    private Thread sampler;

    @BeforeEach
    void start() throws Exception {
        backend = new TestBackend();
        proxy = new ProxyFixture(ProxyFixture.settings(8192, 100L * 1024 * 1024, java.time.Duration.ofSeconds(30),
                java.time.Duration.ofSeconds(30), 4), (h, p, t) -> backend.route());
        // all direct ByteBuffers of the JVM: Netty's buffers (whatever its allocator) and NIO's temporary ones
        BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(pool -> pool.getName().equals("direct")).findFirst().orElseThrow();
        // what earlier tests of this JVM left in the pools is not this test's: only the growth counts
        long baseline = direct.getMemoryUsed();
        sampler = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                peakDirectMemory.accumulateAndGet(direct.getMemoryUsed() - baseline, Math::max);
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        sampler.setDaemon(true);
        sampler.start();
    }

    @AfterEach
    void stop() throws Exception {
        sampler.interrupt();
        sampler.join();
        proxy.close();
        backend.close();
    }

    @Test
    void download50MiBToASlowClientStreamsWithBoundedMemory() throws Exception {
        try (RawClient client = new RawClient(proxy.port())) {
            client.socket.setReceiveBufferSize(64 * 1024);
            client.send("GET /download?bytes=" + BODY_BYTES + " HTTP/1.1\r\nHost: a.example\r\n\r\n");
            Thread.sleep(1500); // the backend could have sent everything by now; the proxy must not have taken it
            RawClient.Response head = client.read(true);
            assertEquals(200, head.status());
            assertEquals(Long.toString(BODY_BYTES), head.header("content-length"));
            long start = System.nanoTime();
            long received = drain(client.input(), BODY_BYTES);
            long millis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            assertEquals(BODY_BYTES, received);
            System.out.printf("download: %d MiB in %d ms (%.0f MiB/s), peak direct memory %d KiB%n",
                    BODY_BYTES >> 20, millis, (BODY_BYTES >> 20) * 1000.0 / millis, peakDirectMemory.get() >> 10);
            assertTrue(peakDirectMemory.get() < MEMORY_BOUND_BYTES, "peak direct memory growth " + peakDirectMemory.get());
            // the connection is still good for another request
            client.send("GET /after HTTP/1.1\r\nHost: a.example\r\n\r\n");
            assertEquals("/after", client.read().text());
        }
    }

    @Test
    void upload50MiBToASlowBackendStreamsWithBoundedMemory() throws Exception {
        try (RawClient client = new RawClient(proxy.port())) {
            client.send("POST /upload?pauseMs=1500 HTTP/1.1\r\nHost: a.example\r\nContent-Length: " + BODY_BYTES + "\r\n\r\n");
            long start = System.nanoTime();
            writeBody(client.output(), BODY_BYTES);
            RawClient.Response response = client.read();
            long millis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            assertEquals(200, response.status());
            assertEquals(Long.toString(BODY_BYTES), response.text());
            System.out.printf("upload: %d MiB in %d ms (1500 ms backend pause), peak direct memory %d KiB%n",
                    BODY_BYTES >> 20, millis, peakDirectMemory.get() >> 10);
            assertTrue(peakDirectMemory.get() < MEMORY_BOUND_BYTES, "peak direct memory growth " + peakDirectMemory.get());
        }
    }

    @Test
    void chunkedUploadIsStreamedToTheBackend() throws Exception {
        try (RawClient client = new RawClient(proxy.port())) {
            client.send("POST /upload HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n\r\n");
            byte[] chunk = new byte[32 * 1024];
            OutputStream out = client.output();
            long total = 0;
            for (int i = 0; i < 64; i++) {
                out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes());
                out.write(chunk);
                out.write("\r\n".getBytes());
                total += chunk.length;
            }
            out.write("0\r\n\r\n".getBytes());
            out.flush();
            assertEquals(Long.toString(total), client.read().text());
        }
    }

    private static void writeBody(OutputStream out, long bytes) throws Exception {
        byte[] block = new byte[64 * 1024];
        for (long sent = 0; sent < bytes; sent += block.length) out.write(block, 0, (int) Math.min(block.length, bytes - sent));
        out.flush();
    }

    private static long drain(InputStream in, long expected) throws Exception {
        byte[] buffer = new byte[64 * 1024];
        long total = 0;
        while (total < expected) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, expected - total));
            if (n < 0) break;
            total += n;
        }
        return total;
    }
}
