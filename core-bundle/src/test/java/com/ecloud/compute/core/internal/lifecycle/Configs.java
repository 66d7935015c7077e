package com.ecloud.compute.core.internal.lifecycle;

import java.lang.reflect.Proxy;
import java.util.Map;

/** Builds configuration annotation instances for unit tests: defaults, with some values overridden. */
final class Configs {

    private Configs() {
    }

    @SuppressWarnings("unchecked")
    static <A> A of(Class<A> type, Map<String, Object> overrides) {
        return (A) Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, method, args) -> {
            if (method.getName().equals("annotationType")) return type;
            if (method.getName().equals("toString")) return type.getSimpleName() + overrides;
            if (method.getName().equals("hashCode")) return overrides.hashCode();
            if (method.getName().equals("equals")) return proxy == args[0];
            return overrides.containsKey(method.getName()) ? overrides.get(method.getName()) : method.getDefaultValue();
        });
    }
}
