package com.ecloud.compute.core.internal.http;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Reader;
import java.lang.annotation.Annotation;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.jakartars.whiteboard.propertytypes.JakartarsExtension;
import org.osgi.service.jakartars.whiteboard.propertytypes.JakartarsMediaType;
import org.osgi.service.jakartars.whiteboard.propertytypes.JakartarsName;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.StreamingOutput;
import jakarta.ws.rs.ext.MessageBodyReader;
import jakarta.ws.rs.ext.MessageBodyWriter;

/**
 * JSON bodies for the REST whiteboard over the one {@link ApiJson} mapper (Jackson's own JAX-RS provider breaks
 * the whiteboard: STACK.md pitfall 1).
 *
 * <p>Reads only {@link JsonNode} (resources check fields strictly themselves), but claims it for every media
 * type so that the answer is ours: 415 for a body not sent as {@code application/json}, 400 when the body is
 * missing (Jersey would hand the resource {@code null} for an empty body without Content-Type). Writes any
 * object as JSON except the types Jersey writes verbatim (strings, bytes, streams).
 */
@Component(service = { MessageBodyReader.class, MessageBodyWriter.class })
@JakartarsExtension
@JakartarsName(JsonBodyProvider.NAME)
@JakartarsMediaType(MediaType.APPLICATION_JSON)
@Consumes(MediaType.WILDCARD)
@Produces(MediaType.APPLICATION_JSON)
public class JsonBodyProvider implements MessageBodyReader<JsonNode>, MessageBodyWriter<Object> {

    /** Whiteboard name, for resources that want to require this extension. */
    public static final String NAME = "ecloud.json";

    private final ApiJson json;

    @Activate
    public JsonBodyProvider(@Reference ApiJson json) {
        this.json = json;
    }

    @Override
    public boolean isReadable(Class<?> type, Type genericType, Annotation[] annotations, MediaType mediaType) {
        return type == JsonNode.class || type == ObjectNode.class;
    }

    @Override
    public JsonNode readFrom(Class<JsonNode> type, Type genericType, Annotation[] annotations, MediaType mediaType,
            MultivaluedMap<String, String> headers, InputStream body) throws IOException {
        if (!isJson(mediaType)) {
            // nothing sent at all is a missing body, not a wrong media type
            if (isEmpty(body)) throw ApiJson.requestBodyRequired();
            throw new ApiException(415, "request body must be sent as application/json");
        }
        if (!isUtf8(mediaType)) {
            throw new ApiException(415, "JSON request bodies must be UTF-8");
        }
        JsonNode node = json.readBody(body);
        if ((Class<?>) type == ObjectNode.class && !node.isObject()) {
            throw ApiException.badRequest("request body must be a JSON object");
        }
        return node;
    }

    @Override
    public boolean isWriteable(Class<?> type, Type genericType, Annotation[] annotations, MediaType mediaType) {
        return isJson(mediaType) && !isVerbatim(type);
    }

    @Override
    public void writeTo(Object value, Class<?> type, Type genericType, Annotation[] annotations, MediaType mediaType,
            MultivaluedMap<String, Object> headers, OutputStream out) throws IOException {
        json.write(value, out);
    }

    /** application/json, with or without parameters. */
    static boolean isJson(MediaType mediaType) {
        return mediaType != null && "application".equalsIgnoreCase(mediaType.getType())
                && "json".equalsIgnoreCase(mediaType.getSubtype());
    }

    /** JSON is UTF-8 (RFC 8259); a charset parameter may only say so. */
    static boolean isUtf8(MediaType mediaType) {
        String charset = mediaType.getParameters().get(MediaType.CHARSET_PARAMETER);
        return charset == null || charset.equalsIgnoreCase(StandardCharsets.UTF_8.name())
                || charset.equalsIgnoreCase("utf8");
    }

    /** Reads at most one byte of a body that is refused anyway. */
    private static boolean isEmpty(InputStream body) {
        try {
            return body.read() < 0;
        } catch (IOException e) {
            return false;
        }
    }

    /** Types Jersey's own writers send as they are: a resource returning them chose the bytes itself. */
    private static boolean isVerbatim(Class<?> type) {
        return CharSequence.class.isAssignableFrom(type) || type == byte[].class
                || InputStream.class.isAssignableFrom(type) || Reader.class.isAssignableFrom(type)
                || StreamingOutput.class.isAssignableFrom(type) || File.class.isAssignableFrom(type)
                || Path.class.isAssignableFrom(type);
    }
}
