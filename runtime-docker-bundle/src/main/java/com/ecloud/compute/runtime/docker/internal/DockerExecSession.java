package com.ecloud.compute.runtime.docker.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.ecloud.compute.api.runtime.ExecListener;
import com.ecloud.compute.api.runtime.ExecSession;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectExecResponse;

/**
 * An exec process attached over a raw engine connection: output is read on a thread of the runtime's (demultiplexed
 * when there is no tty), input is written straight to the connection, end of input half-closes it.
 *
 * <p>Docker cannot kill an exec process. Closing the session therefore signals, from the host, the exec's
 * process, every process of its session and every descendant (see {@link ProcessReaper}), which leaves no orphan
 * behind (background jobs of a shell included); then the connection is closed.
 */
final class DockerExecSession implements ExecSession {

    private static final Logger LOG = LoggerFactory.getLogger(DockerExecSession.class);
    private static final int STDOUT = 1;
    private static final int STDERR = 2;
    /** Holds the engine's largest frame (32 KiB) several times over, so that reads batch many small frames. */
    private static final int READ_BUFFER = 256 * 1024;

    private final DockerClient client;
    private final String execId;
    private final boolean tty;
    private final SocketChannel channel;
    private final ExecListener listener;
    private final ProcessReaper reaper;
    private final Consumer<DockerExecSession> onFinished;
    private final Object writeLock = new Object();
    private final AtomicBoolean exitReported = new AtomicBoolean();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final CountDownLatch readerDone = new CountDownLatch(1);
    /** The exit has been told to the listener (or the session ended without one). */
    private final CountDownLatch finished = new CountDownLatch(1);
    /** The thread that reads the output and tells the exit (a listener may close the session from it). */
    private volatile Thread reader;
    private volatile long hostPid;
    /** Output of consecutive frames of one stream, read thread only. */
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream(READ_BUFFER);

    DockerExecSession(DockerClient client, String execId, boolean tty, EngineSocket.Upgraded connection,
            ExecListener listener, ProcessReaper reaper, Consumer<DockerExecSession> onFinished) {
        this.client = client;
        this.execId = execId;
        this.tty = tty;
        this.channel = connection.channel();
        this.listener = listener;
        this.reaper = reaper;
        this.onFinished = onFinished;
    }

    /** Starts reading output with {@code executor}; {@code leftover} is output that came with the response head. */
    void startReading(Executor executor, ByteBuffer leftover) {
        executor.execute(() -> read(leftover));
    }

    /** Remembers the exec's host process id (from exec inspect), so that close can end its process tree. */
    void recordProcess() {
        for (int attempt = 0; attempt < 40 && hostPid == 0 && readerDone.getCount() > 0; attempt++) {
            try {
                InspectExecResponse exec = client.inspectExecCmd(execId).exec();
                Long pid = exec.getPidLong();
                if (pid != null && pid > 0) {
                    hostPid = pid;
                    reaper.remember(pid);
                    return;
                }
                Thread.sleep(25);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                LOG.debug("exec inspect {} failed: {}", execId, e.toString());
                return;
            }
        }
    }

    @Override
    public void write(byte[] data) {
        synchronized (writeLock) {
            try {
                EngineSocket.writeFully(channel, ByteBuffer.wrap(data));
            } catch (IOException e) {
                // the process has ended or the session is closing: onExit tells the caller
                LOG.debug("exec {} input dropped: {}", execId, e.toString());
            }
        }
    }

    @Override
    public void closeInput() {
        synchronized (writeLock) {
            try {
                channel.shutdownOutput();
            } catch (IOException e) {
                LOG.debug("exec {} input already closed: {}", execId, e.toString());
            }
        }
    }

    @Override
    public void resize(int cols, int rows) {
        if (!tty || cols <= 0 || rows <= 0) return;
        // right after start the engine may not know the process yet: retry briefly, as the docker CLI does
        for (int attempt = 0; attempt < 10; attempt++) {
            try {
                client.resizeExecCmd(execId).withSize(rows, cols).exec();
                return;
            } catch (RuntimeException e) {
                if (readerDone.getCount() == 0) return;
                try {
                    Thread.sleep(20L * (attempt + 1));
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) return;
        try {
            if (readerDone.getCount() > 0 && hostPid > 0) {
                reaper.endProcessTree(hostPid);
            }
            // the output ends once the processes are gone; give it a moment to drain before cutting it
            readerDone.await(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closeChannel();
        }
        if (Thread.currentThread() == reader) return; // closed by the listener while it is told the exit
        try {
            // the exit code is read from the engine after the output ended: a runtime closing right after this
            // (its bundle stopping) must not cut that call off and report an error instead of the exit
            finished.await(3, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void read(ByteBuffer leftover) {
        reader = Thread.currentThread();
        Throwable failure = null;
        try {
            ByteBuffer buffer = ByteBuffer.allocate(READ_BUFFER);
            buffer.put(leftover);
            while (true) {
                buffer.flip();
                if (tty) {
                    if (buffer.hasRemaining()) {
                        listener.onOutput(Arrays.copyOfRange(buffer.array(), buffer.position(), buffer.limit()), false);
                    }
                    buffer.clear();
                } else {
                    deliverFrames(buffer);
                    buffer.compact();
                    if (!buffer.hasRemaining()) {
                        throw new IOException("exec frame larger than the read buffer");
                    }
                }
                if (channel.read(buffer) < 0) break;
            }
        } catch (ClosedChannelException e) {
            // closed by close(): a normal end
        } catch (IOException | RuntimeException e) {
            if (!closing.get()) failure = e;
        } finally {
            readerDone.countDown();
            finish(failure);
        }
    }

    /**
     * Delivers the complete frames in {@code buffer}: [stream, 0, 0, 0, size (4 bytes, big endian)] payload.
     * Consecutive frames of one stream go out as one chunk: the engine frames each write of the process (4 KiB
     * for BusyBox), and a consumer pays per chunk (an SSH packet and its MAC, a WebSocket frame).
     */
    private void deliverFrames(ByteBuffer buffer) {
        byte[] array = buffer.array();
        int pendingStream = 0;
        while (buffer.remaining() >= 8) {
            int start = buffer.position();
            int stream = array[start];
            int size = buffer.getInt(start + 4);
            if (buffer.remaining() < 8 + size) break;
            buffer.position(start + 8 + size);
            if (size == 0 || (stream != STDOUT && stream != STDERR)) continue;
            if (stream != pendingStream) {
                deliverPending(pendingStream);
                pendingStream = stream;
            }
            pending.write(array, start + 8, size);
        }
        deliverPending(pendingStream);
    }

    private void deliverPending(int stream) {
        if (pending.size() == 0) return;
        byte[] payload = pending.toByteArray();
        pending.reset();
        listener.onOutput(payload, stream == STDERR);
    }

    private void finish(Throwable failure) {
        try {
            reportExit(failure);
        } finally {
            finished.countDown();
        }
    }

    private void reportExit(Throwable failure) {
        closeChannel();
        if (!exitReported.compareAndSet(false, true)) return;
        try {
            if (failure != null) {
                listener.onExit(null, failure);
                return;
            }
            // the stream can end a moment before the engine records the exit code
            InspectExecResponse exec = client.inspectExecCmd(execId).exec();
            for (int attempt = 0; attempt < 100 && Boolean.TRUE.equals(exec.isRunning()); attempt++) {
                Thread.sleep(50);
                exec = client.inspectExecCmd(execId).exec();
            }
            Long exitCode = exec.getExitCodeLong();
            if (Boolean.TRUE.equals(exec.isRunning()) || exitCode == null) {
                listener.onExit(null, new IllegalStateException("the exec's output ended but its process still runs"));
            } else {
                listener.onExit(exitCode.intValue(), null);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            listener.onExit(null, e);
        } catch (RuntimeException e) {
            listener.onExit(null, EngineErrors.map("exec inspect", e));
        } finally {
            if (hostPid > 0) reaper.forget(hostPid);
            onFinished.accept(this);
        }
    }

    private void closeChannel() {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing exec {} connection: {}", execId, e.toString());
        }
    }
}
