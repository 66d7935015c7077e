package com.ecloud.compute.launcher;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.logging.LogManager;
import java.util.regex.Pattern;

import com.ecloud.compute.auth.Grant;
import com.ecloud.compute.auth.Scopes;
import com.ecloud.compute.auth.SigningKeys;

/**
 * The command line of the executable jar. {@code serve} (the default) sets the framework's properties from the
 * options, writes default configuration files, and hands over to bnd's embedded launcher, which starts Felix with
 * the bundles inside this jar. {@code token} mints a token from the signing key file and starts no framework.
 */
public final class Main {

    static final int OK = 0;
    static final int FAILED = 1;
    static final int BAD_USAGE = 2;

    private static final String EMBEDDED_LAUNCHER = "aQute.launcher.pre.EmbeddedLauncher";
    private static final Pattern TTL = Pattern.compile("([0-9]{1,9})([smhd])");

    private static final String USAGE = String.join("\n",
            "Usage: java -jar ecloud-compute.jar [serve] [--data DIR] [--config DIR] [--bind ADDR] [--port N]",
            "       java -jar ecloud-compute.jar token <uid> [RESOURCE:ACTION[,ACTION]]... [--ttl 24h] [--data DIR]",
            "",
            "serve   run the platform (the default command)",
            "  --data DIR     data directory: database, signing key, bundle cache (default ./data)",
            "  --config DIR   configuration files (*.cfg), watched while running (default <data>/etc)",
            "  --bind ADDR    address the API listens on (default 127.0.0.1)",
            "  --port N       port the API listens on (default 9080)",
            "token   print one signed access token on stdout",
            "  <uid>          user id, [a-z0-9][a-z0-9_-]{0,62}",
            "  RESOURCE:ACTION[,ACTION]  grants, e.g. compute.alice:read,create compute.bob.keys:read",
            "                 (none: compute.<uid> with read,create,update,delete)",
            "  --ttl T        lifetime: a number with s, m, h or d (default 24h)",
            "  --data DIR     data directory holding secrets/token-signing.jwks (default ./data)",
            "");

    private final PrintStream out;
    private final PrintStream err;

    Main(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        int status = new Main(System.out, System.err).run(args);
        // serve returns only when it could not start; the framework runs on its own threads otherwise
        if (status != OK || !isServe(args)) {
            System.out.flush();
            System.exit(status);
        }
    }

    private static boolean isServe(String[] args) {
        return args.length == 0 || args[0].equals("serve") || args[0].startsWith("--") && !isHelp(args[0]);
    }

    private static boolean isHelp(String arg) {
        return arg.equals("--help") || arg.equals("-h") || arg.equals("help");
    }

    int run(String[] args) {
        configureJavaLogging();
        try {
            if (args.length == 0) return serve(List.of());
            String command = args[0];
            List<String> rest = List.of(args).subList(1, args.length);
            if (isHelp(command)) {
                out.print(USAGE);
                return OK;
            }
            switch (command) {
                case "serve":
                    return serve(rest);
                case "token":
                    return token(rest);
                default:
                    if (command.startsWith("--")) return serve(List.of(args));
                    throw new UsageException("unknown command '" + command + "'");
            }
        } catch (UsageException e) {
            err.println("ecloud-compute: " + e.getMessage());
            err.println("Try: java -jar ecloud-compute.jar --help");
            return BAD_USAGE;
        }
    }

    // ---------------------------------------------------------------- serve

    int serve(List<String> args) throws UsageException {
        Options options = Options.parse(args, List.of("--data", "--config", "--bind", "--port"));
        if (options.help) {
            out.print(USAGE);
            return OK;
        }
        if (!options.positional.isEmpty()) throw new UsageException("serve takes no argument '" + options.positional.get(0) + "'");
        Path data = Path.of(options.value("--data", "data")).toAbsolutePath().normalize();
        Path config = options.has("--config")
                ? Path.of(options.value("--config", null)).toAbsolutePath().normalize()
                : data.resolve("etc");
        String bind = options.value("--bind", "127.0.0.1");
        if (bind.isBlank()) throw new UsageException("--bind needs an address");
        int port = parsePort(options.value("--port", "9080"));

        // Jetty would only log a failed bind and leave a platform without its API running: refuse to start instead
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(bind, port));
        } catch (IOException | RuntimeException e) {
            err.println("ecloud-compute: cannot listen on " + bind + ":" + port + ": " + e.getMessage());
            return FAILED;
        }

        String platformId;
        try {
            Files.createDirectories(data);
            Files.createDirectories(config);
            DefaultConfiguration.writeMissing(config);
            platformId = PlatformId.loadOrCreate(data.resolve("state").resolve("platform-id"));
        } catch (IOException | UncheckedIOException e) {
            err.println("ecloud-compute: cannot prepare " + data + " and " + config + ": " + e.getMessage());
            return FAILED;
        }

        Map<String, String> properties = frameworkProperties(data, config, bind, port, System.console() != null);
        // runtimes label what they create with it, so that platforms sharing an engine keep apart
        properties.put("ecloud.platform.id", platformId);
        properties.forEach(System::setProperty);

        try {
            Class<?> launcher = Class.forName(EMBEDDED_LAUNCHER);
            Method main = launcher.getMethod("main", String[].class);
            main.invoke(null, (Object) new String[0]);
            return OK;
        } catch (ClassNotFoundException e) {
            err.println("ecloud-compute: serve needs the executable jar (launcher/target/ecloud-compute.jar)");
            return FAILED;
        } catch (InvocationTargetException e) {
            err.println("ecloud-compute: the framework did not start: " + e.getCause());
            e.getCause().printStackTrace(err);
            return FAILED;
        } catch (ReflectiveOperationException e) {
            err.println("ecloud-compute: cannot start bnd's launcher: " + e);
            return FAILED;
        }
    }

    /**
     * System properties for the framework and bnd's launcher; they override the run properties of compute.bndrun
     * of the same name (and Felix falls back to system properties for the others).
     */
    static Map<String, String> frameworkProperties(Path data, Path config, String bind, int port, boolean interactive) {
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("ecloud.data", data.toString());
        Path cache = data.resolve("cache");
        properties.put("launch.storage.dir", cache.toString());
        properties.put("org.osgi.framework.storage", cache.toString());
        properties.put("felix.fileinstall.dir", config.toString());
        // FileInstall must never write the operators' files back: it did so on every start (for each
        // configuration it had just created), and its own watcher could read a file while it was being
        // rewritten, then apply it empty: components came up on their defaults
        properties.put("felix.fileinstall.enableConfigSave", "false");
        properties.put("org.osgi.service.http.port", Integer.toString(port));
        properties.put("org.apache.felix.http.host", bind);
        // without a terminal Gogo must not read stdin: at end of input it would stop the framework
        properties.put("gosh.args", interactive ? "" : "--nointeractive");
        return properties;
    }

    private static int parsePort(String text) throws UsageException {
        try {
            int port = Integer.parseInt(text);
            if (port >= 1 && port <= 65535) return port;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException("--port must be a number from 1 to 65535");
    }

    // ---------------------------------------------------------------- token

    int token(List<String> args) throws UsageException {
        Options options = Options.parse(args, List.of("--ttl", "--data"));
        if (options.help) {
            out.print(USAGE);
            return OK;
        }
        if (options.positional.isEmpty()) throw new UsageException("token needs a user id");
        String uid = options.positional.get(0);
        if (!Scopes.isValidUid(uid)) throw new UsageException("user id must match " + Scopes.UID.pattern());
        List<Grant> grants = new ArrayList<>();
        for (String item : options.positional.subList(1, options.positional.size())) {
            try {
                grants.add(Scopes.parseGrant(item));
            } catch (IllegalArgumentException e) {
                throw new UsageException("'" + item + "': " + e.getMessage());
            }
        }
        Duration ttl = parseTtl(options.value("--ttl", "24h"));
        Path data = Path.of(options.value("--data", "data")).toAbsolutePath().normalize();

        String token;
        try {
            token = SigningKeys.openOrCreate(data).issuer().issue(uid, grants, ttl);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        } catch (IOException | RuntimeException e) {
            err.println("ecloud-compute: cannot mint a token: " + e.getMessage());
            return FAILED;
        }
        out.println(token);
        return OK;
    }

    static Duration parseTtl(String text) throws UsageException {
        Matcher m = TTL.matcher(text);
        if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
            throw new UsageException("--ttl must be a positive number with s, m, h or d, e.g. 90m or 24h");
        }
        long n = Long.parseLong(m.group(1));
        switch (m.group(2)) {
            case "s":
                return Duration.ofSeconds(n);
            case "m":
                return Duration.ofMinutes(n);
            case "h":
                return Duration.ofHours(n);
            default:
                return Duration.ofDays(n);
        }
    }

    // ---------------------------------------------------------------- helpers

    /**
     * java.util.logging (Jersey, HK2, SPI Fly, our auth code) in one line per record on stderr, like the SLF4J
     * backend, with the chattiest INFO sources turned down; left alone when the JVM was given a configuration.
     */
    static void configureJavaLogging() {
        if (System.getProperty("java.util.logging.config.file") != null
                || System.getProperty("java.util.logging.config.class") != null) {
            return;
        }
        String configuration = String.join("\n",
                "handlers=java.util.logging.ConsoleHandler",
                ".level=INFO",
                "java.util.logging.ConsoleHandler.level=ALL",
                "java.util.logging.SimpleFormatter.format=%1$tF %1$tT.%1$tL %4$s %3$s - %5$s%6$s%n",
                // one line per ServiceLoader provider found; per whiteboard reload: one warning per resource
                // and one that WADL is off (no JAXB implementation, which is what we want)
                "org.apache.aries.spifly.level=WARNING",
                "org.glassfish.jersey.internal.inject.Providers.level=SEVERE",
                "org.glassfish.jersey.server.wadl.WadlFeature.level=SEVERE",
                "");
        try {
            LogManager.getLogManager().readConfiguration(
                    new ByteArrayInputStream(configuration.getBytes(StandardCharsets.ISO_8859_1)));
        } catch (IOException e) {
            // keep the JDK's defaults
        }
    }

    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    /** {@code --name value} or {@code --name=value} options among positional arguments. */
    static final class Options {
        final Map<String, String> values = new LinkedHashMap<>();
        final List<String> positional = new ArrayList<>();
        boolean help;

        static Options parse(List<String> args, List<String> known) throws UsageException {
            Options options = new Options();
            for (int i = 0; i < args.size(); i++) {
                String arg = args.get(i);
                if (arg.equals("--help") || arg.equals("-h")) {
                    options.help = true;
                } else if (arg.startsWith("--")) {
                    int equals = arg.indexOf('=');
                    String name = equals < 0 ? arg : arg.substring(0, equals);
                    if (!known.contains(name)) throw new UsageException("unknown option " + name);
                    String value;
                    if (equals >= 0) {
                        value = arg.substring(equals + 1);
                    } else if (i + 1 < args.size() && !args.get(i + 1).startsWith("--")) {
                        value = args.get(++i);
                    } else {
                        throw new UsageException(name + " needs a value");
                    }
                    if (options.values.put(name, value) != null) throw new UsageException(name + " is given twice");
                } else {
                    options.positional.add(arg);
                }
            }
            return options;
        }

        boolean has(String name) {
            return values.containsKey(name);
        }

        String value(String name, String fallback) throws UsageException {
            String value = values.getOrDefault(name, fallback);
            if (value != null && value.isEmpty()) throw new UsageException(name + " needs a value");
            return value;
        }
    }

    /** This platform's id, made once (random) and kept in the data directory. */
    static final class PlatformId {

        static String loadOrCreate(Path file) throws IOException {
            if (Files.exists(file)) {
                String id = Files.readString(file, StandardCharsets.UTF_8).trim();
                if (id.matches("[a-z0-9]{16}")) return id;
                throw new IOException(file + " does not hold a platform id (16 characters of a-z, 0-9)");
            }
            Files.createDirectories(file.getParent());
            byte[] random = new byte[8];
            new java.security.SecureRandom().nextBytes(random);
            String fresh = HexFormat.of().formatHex(random);
            Path temp = Files.createTempFile(file.getParent(), ".platform-id-", ".tmp");
            try {
                Files.writeString(temp, fresh + "\n", StandardCharsets.UTF_8);
                try {
                    Files.createLink(file, temp); // never replaces an id another start wrote meanwhile
                } catch (UnsupportedOperationException | FileSystemException noHardLinks) {
                    if (noHardLinks instanceof FileAlreadyExistsException exists) throw exists;
                    Files.move(temp, file);
                }
            } catch (FileAlreadyExistsException createdMeanwhile) {
                return loadOrCreate(file);
            } finally {
                Files.deleteIfExists(temp);
            }
            return fresh;
        }

        private PlatformId() {
        }
    }

    /** Configuration files written into the configuration directory when missing; never overwritten. */
    static final class DefaultConfiguration {

        static final Map<String, String> FILES = inOrder(
                // the Jakarta REST whiteboard serves nothing until its servlet adapter is configured
                "JakartarsServletWhiteboardRuntimeComponent.cfg",
                "# Jakarta REST whiteboard on Felix HTTP: applications are served from the root path\n"
                        + "jersey.context.path=/\n",
                // FileInstall names factory configurations <factory PID>-<name>.cfg
                "com.ecloud.compute.runtime.docker-local.cfg",
                "# The local Docker engine as a container runtime (one file per Docker host)\n"
                        + "host.name=local\n"
                        + "docker.host=unix:///var/run/docker.sock\n",
                // The components of these wait for their file (so that none ever runs on defaults the operator
                // changed, before FileInstall, which reads the files asynchronously, got to them): an empty file
                // means every default; README.md lists the properties.
                "com.ecloud.compute.auth.cfg", "# Access tokens: signing key file, clock skew (README.md, Configuration)\n",
                "com.ecloud.compute.platform.cfg", "# The platform: limits, names, timings (README.md, Configuration)\n",
                "com.ecloud.compute.images.cfg", "# The images users may run and the internal registry (README.md)\n",
                "com.ecloud.compute.store.cfg", "# The store: empty for H2 in <data>/db; jdbc.url etc. for PostgreSQL\n",
                "com.ecloud.compute.ssh.cfg", "# The SSH gateway into containers (README.md, SSH into containers)\n",
                "com.ecloud.compute.gateway.cfg",
                "# The ingress gateway: port.offset (10000: 80 -> 10080, 443 -> 10443), TLS files (README.md)\n",
                "com.ecloud.compute.ssh.operator.cfg",
                "# The operators' Gogo shell over SSH; authorized.keys= lists who may log in (nobody by default)\n",
                "com.ecloud.compute.websocket.cfg", "# Browser origins allowed to open WebSockets; empty: any\n",
                "com.ecloud.compute.core.internal.ws.StatusStreamServlet.cfg", "# /compute/ws limits (README.md)\n",
                "com.ecloud.compute.core.internal.ws.streams.ContainerStreamsFilter.cfg",
                "# Log and terminal WebSocket limits (README.md)\n");

        /** File name, content, file name, content, ... in that order. */
        private static Map<String, String> inOrder(String... nameThenContent) {
            Map<String, String> files = new java.util.LinkedHashMap<>();
            for (int i = 0; i + 1 < nameThenContent.length; i += 2) files.put(nameThenContent[i], nameThenContent[i + 1]);
            return java.util.Collections.unmodifiableMap(files);
        }

        static void writeMissing(Path directory) throws IOException {
            for (Map.Entry<String, String> file : FILES.entrySet()) {
                Path target = directory.resolve(file.getKey());
                if (Files.exists(target)) continue;
                // written aside and linked in place: FileInstall never sees a half-written file, and a file
                // created meanwhile by someone else is kept
                Path temp = Files.createTempFile(directory, ".default-", ".tmp");
                try {
                    Files.writeString(temp, file.getValue(), StandardCharsets.UTF_8);
                    Files.createLink(target, temp);
                } catch (FileAlreadyExistsException createdMeanwhile) {
                    // keep theirs
                } catch (UnsupportedOperationException | FileSystemException noHardLinks) {
                    try {
                        Files.move(temp, target);
                    } catch (FileAlreadyExistsException createdMeanwhile) {
                        // keep theirs
                    }
                } finally {
                    Files.deleteIfExists(temp);
                }
            }
        }

        private DefaultConfiguration() {
        }
    }
}
