package com.ecloud.compute.core.internal.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.function.Function;
import java.util.regex.Pattern;

import org.osgi.service.component.annotations.Component;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;

/**
 * The API's one JSON mapping: strict parsing of request bodies and writing of responses. An immediate component
 * of its own, so that the mapper and its caches survive the whiteboard's reloads of the extensions using it.
 */
@Component(service = ApiJson.class)
public class ApiJson {

    /** Largest request body accepted: 1 MiB. */
    public static final long MAX_BODY_BYTES = 1024 * 1024;

    /** Bound on nesting: our bodies are two levels deep; this only stops pathological input early. */
    static final int MAX_NESTING_DEPTH = 64;

    /** Parser messages echo fragments of the input; keep the error short. */
    private static final int MAX_REASON_CHARS = 200;

    private static final Pattern SOURCE_LOCATION =
            Pattern.compile("\\[Source: [^;\\]]*(?:\\([^)]*\\))?[^;\\]]*; line: (\\d+), column: (\\d+)\\]");

    private final ObjectMapper mapper;

    public ApiJson() {
        JsonFactory factory = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING_DEPTH).build())
                .build();
        this.mapper = JsonMapper.builder(factory)
                // {"a":1,"a":2} is refused instead of silently keeping the last value
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
                // Jersey owns and closes the entity streams
                .disable(StreamReadFeature.AUTO_CLOSE_SOURCE)
                .disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET)
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .addModule(isoTimes())
                .build();
    }

    /**
     * The shared mapper, for code that builds or writes JSON outside a request body (e.g. WebSocket messages).
     * Configured once here: callers must not reconfigure it.
     */
    public ObjectMapper mapper() {
        return mapper;
    }

    /**
     * Reads one JSON document from a request body of at most {@link #MAX_BODY_BYTES}.
     *
     * @throws ApiException 400 for an empty body, malformed JSON, duplicate keys or trailing content; 413 for a
     *                      body over the limit; never with a stack trace or more than a short reason
     */
    public JsonNode readBody(InputStream body) {
        InputStream limited = body instanceof LimitedInputStream ? body : new LimitedInputStream(body, MAX_BODY_BYTES);
        try (JsonParser parser = mapper.createParser(limited)) {
            if (parser.nextToken() == null) throw requestBodyRequired();
            JsonNode node = mapper.readTree(parser);
            // {"a":1} {"b":2} is refused instead of ignoring what follows the first value (checked here rather
            // than with FAIL_ON_TRAILING_TOKENS, whose message names Jackson's classes)
            JsonToken trailing = parser.nextToken();
            if (trailing != null) {
                throw ApiException.badRequest("malformed JSON: unexpected content after the JSON value"
                        + at(parser.currentTokenLocation()));
            }
            return node;
        } catch (BodyTooLargeException e) {
            throw bodyTooLarge();
        } catch (JsonProcessingException e) {
            if (e.getCause() instanceof BodyTooLargeException) throw bodyTooLarge();
            throw ApiException.badRequest("malformed JSON: " + reason(e));
        } catch (IOException e) {
            // the client went away or sent less than it announced
            throw ApiException.badRequest("request body could not be read");
        }
    }

    /** Writes {@code value} as JSON without closing {@code out}. */
    public void write(Object value, OutputStream out) throws IOException {
        mapper.writeValue(out, value);
    }

    static ApiException requestBodyRequired() {
        return ApiException.badRequest("request body required");
    }

    static ApiException bodyTooLarge() {
        return new ApiException(413, "request body exceeds 1 MiB");
    }

    private static String reason(JsonProcessingException e) {
        String message = e.getOriginalMessage();
        if (message == null || message.isBlank()) message = "invalid JSON";
        // nested locations ("start marker at [Source: REDACTED ...; line: 1, column: 1]") say more than needed
        message = SOURCE_LOCATION.matcher(message).replaceAll("line $1, column $2");
        message = message.replaceAll("\\s+", " ").strip();
        // Jackson names its own settings in some messages ("from `StreamReadConstraints.getMaxNestingDepth()`")
        message = message.replaceAll(",?\\s*from `[^`]*`", "").replaceAll("`[A-Za-z0-9_.$]+\\(\\)`", "a limit");
        if (message.length() > MAX_REASON_CHARS) message = message.substring(0, MAX_REASON_CHARS) + "...";
        return message + at(e.getLocation());
    }

    private static String at(JsonLocation location) {
        if (location == null || location.getLineNr() < 1) return "";
        return " at line " + location.getLineNr() + ", column " + location.getColumnNr();
    }

    /** java.time values as ISO-8601 / RFC 3339 strings, without the jsr310 module (one bundle fewer). */
    private static SimpleModule isoTimes() {
        SimpleModule module = new SimpleModule("ecloud-iso-times");
        module.addSerializer(Instant.class, formatted(Instant.class, DateTimeFormatter.ISO_INSTANT::format));
        module.addSerializer(OffsetDateTime.class,
                formatted(OffsetDateTime.class, DateTimeFormatter.ISO_OFFSET_DATE_TIME::format));
        module.addSerializer(ZonedDateTime.class,
                formatted(ZonedDateTime.class, t -> DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(t)));
        module.addSerializer(LocalDateTime.class,
                formatted(LocalDateTime.class, DateTimeFormatter.ISO_LOCAL_DATE_TIME::format));
        module.addSerializer(LocalDate.class, formatted(LocalDate.class, DateTimeFormatter.ISO_LOCAL_DATE::format));
        module.addSerializer(Duration.class, formatted(Duration.class, Duration::toString));
        return module;
    }

    private static <T> StdSerializer<T> formatted(Class<T> type, Function<T, String> format) {
        return new StdSerializer<>(type) {
            private static final long serialVersionUID = 1L;

            @Override
            public void serialize(T value, JsonGenerator gen, SerializerProvider provider) throws IOException {
                gen.writeString(format.apply(value));
            }
        };
    }
}
