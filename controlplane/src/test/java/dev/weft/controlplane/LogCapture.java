package dev.weft.controlplane;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** Collects the JUL records (System.Logger's default backend) under a logger name. */
public final class LogCapture extends Handler implements AutoCloseable {
  private final Logger logger;
  private final List<String> messages = new CopyOnWriteArrayList<>();

  public LogCapture(String name) {
    this.logger = Logger.getLogger(name);
    logger.addHandler(this);
  }

  /** The messages so far, with their level: {@code WARNING: ...}. */
  public List<String> messages() {
    return List.copyOf(messages);
  }

  /** Whether a message so far contains {@code text}. */
  public boolean contains(String text) {
    return messages.stream().anyMatch(m -> m.contains(text));
  }

  @Override
  public void publish(LogRecord r) {
    messages.add(r.getLevel() + ": " + r.getMessage());
  }

  @Override
  public void flush() {}

  @Override
  public void close() {
    logger.removeHandler(this);
  }
}
