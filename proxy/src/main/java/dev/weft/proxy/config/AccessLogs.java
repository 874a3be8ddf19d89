package dev.weft.proxy.config;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Value;
import dev.weft.proxy.accesslog.AccessLogConfig;
import dev.weft.proxy.accesslog.AccessLogSinks;
import dev.weft.proxy.accesslog.LogFormat;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.core.v3.SubstitutionFormatString;
import io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Compiles a connection manager's {@code access_log}: {@code envoy.access_loggers.file} ({@code
 * FileAccessLog} with {@code path} and a {@code log_format} text ({@code text_format_source}
 * inline, or {@code text_format}) or {@code json_format}; the deprecated {@code format}/{@code
 * json_format} fields too; none = Envoy's default format). Filters, formatter extensions, {@code
 * omit_empty_values} and other loggers are NACKed.
 */
public final class AccessLogs {
  private static final AnyType<FileAccessLog> FILE_ACCESS_LOG =
      AnyType.of(FileAccessLog::getDescriptor, FileAccessLog.parser());

  static final String FILE = "envoy.access_loggers.file";
  static final String FILE_TYPE =
      "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog";

  private AccessLogs() {}

  /** The compiled entries, or null when the connection manager has none. */
  public static AccessLogConfig compile(String where, List<AccessLog> logs, AccessLogSinks sinks)
      throws InvalidResourceException {
    if (logs.isEmpty()) {
      return null;
    }
    List<String> headers = new ArrayList<>();
    List<AccessLogConfig.Sink> out = new ArrayList<>();
    for (AccessLog al : logs) {
      String w = where + "access_log " + al.getName() + ": ";
      if (al.hasFilter()) {
        throw new InvalidResourceException(w + "filter is not supported");
      }
      if (!al.getTypedConfig().getTypeUrl().equals(FILE_TYPE)) {
        throw new InvalidResourceException(w + "only " + FILE + " (FileAccessLog) is supported");
      }
      FileAccessLog f;
      try {
        f = FILE_ACCESS_LOG.unpack(al.getTypedConfig());
      } catch (InvalidProtocolBufferException e) {
        throw new InvalidResourceException(w + "cannot decode FileAccessLog: " + e.getMessage());
      }
      if (f.getPath().isEmpty()) {
        throw new InvalidResourceException(w + "path is required");
      }
      LogFormat format;
      try {
        format = format(w, f, headers);
      } catch (IllegalArgumentException e) {
        throw new InvalidResourceException(w + e.getMessage());
      }
      if (sinks == null) {
        continue; // checked only: this compiler writes no logs
      }
      try {
        out.add(new AccessLogConfig.Sink(sinks.logger(f.getPath()), format));
      } catch (IOException e) {
        throw new InvalidResourceException(w + "cannot open " + f.getPath() + ": " + e);
      }
    }
    return sinks == null ? null : new AccessLogConfig(out, headers);
  }

  private static LogFormat format(String w, FileAccessLog f, List<String> headers)
      throws InvalidResourceException {
    switch (f.getAccessLogFormatCase()) {
      case FORMAT -> {
        return LogFormat.text(f.getFormat(), headers);
      }
      case JSON_FORMAT -> {
        return LogFormat.json(fields(w, f.getJsonFormat()), headers);
      }
      case LOG_FORMAT -> {
        SubstitutionFormatString s = f.getLogFormat();
        if (s.getOmitEmptyValues() || s.getFormattersCount() > 0) {
          throw new InvalidResourceException(
              w + "omit_empty_values and formatters are not supported");
        }
        switch (s.getFormatCase()) {
          case TEXT_FORMAT -> {
            return LogFormat.text(s.getTextFormat(), headers);
          }
          case TEXT_FORMAT_SOURCE -> {
            if (!s.getTextFormatSource().hasInlineString()) {
              throw new InvalidResourceException(w + "text_format_source must be an inline_string");
            }
            return LogFormat.text(s.getTextFormatSource().getInlineString(), headers);
          }
          case JSON_FORMAT -> {
            return LogFormat.json(fields(w, s.getJsonFormat()), headers);
          }
          default ->
              throw new InvalidResourceException(
                  w + "log_format " + s.getFormatCase() + " is not supported");
        }
      }
      case ACCESSLOGFORMAT_NOT_SET -> {
        return LogFormat.text(AccessLogConfig.ENVOY_DEFAULT, headers);
      }
      default ->
          throw new InvalidResourceException(w + f.getAccessLogFormatCase() + " is not supported");
    }
  }

  private static Map<String, String> fields(String w, com.google.protobuf.Struct s)
      throws InvalidResourceException {
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, Value> e : s.getFieldsMap().entrySet()) {
      if (!e.getValue().hasStringValue()) {
        throw new InvalidResourceException(
            w
                + "json_format value of "
                + e.getKey()
                + " must be a string (nested objects are not supported)");
      }
      out.put(e.getKey(), e.getValue().getStringValue());
    }
    return out;
  }
}
