package dev.weft.controlplane.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import org.sqlite.SQLiteDataSource;

/**
 * The control plane's durable database: one SQLite file, {@code <store dir>/weft.db}, in WAL mode,
 * through one JDBC connection guarded by one lock. {@link ConfigStore} keeps its resources here;
 * another component that needs durable state adds its own table by appending a step to {@link
 * #MIGRATIONS} and uses {@link #transaction}.
 *
 * <p>Durability: {@code journal_mode=WAL} with {@code synchronous=FULL}. Each transaction appends
 * the pages it changed to {@code weft.db-wal} and, at commit, fsyncs the WAL before {@link
 * #transaction} returns (SQLite, "Write-Ahead Logging" and "PRAGMA synchronous"). A {@code kill -9}
 * at any point leaves either the old or the new state (a commit is one atomic append of a commit
 * frame; a torn tail is ignored on recovery). {@code synchronous=NORMAL} would be as safe against
 * {@code kill -9} (the OS keeps written pages when a process dies), but after a power loss or an OS
 * crash it may lose the last commits that the API already answered "created" for; FULL costs one
 * fsync per apply, which is the price the old JSON store paid too, without rewriting the rest.
 *
 * <p>The file is checkpointed (WAL pages copied back into {@code weft.db}) automatically by SQLite
 * every 1000 pages; {@code weft.db-shm} is the WAL index. All three files belong together.
 */
public final class StoreDatabase implements AutoCloseable {
  /** The database file's name inside the store directory. */
  public static final String FILE_NAME = "weft.db";

  /**
   * The schema, one step per {@code PRAGMA user_version}: step {@code i} takes a database at
   * version {@code i} to {@code i + 1}, in the same transaction. Append; never edit a released
   * step.
   */
  static final List<List<String>> MIGRATIONS =
      List.of(
          List.of(
              // ConfigStore: one row per resource; document is the applied document as JSON,
              // without the store-owned metadata (resourceVersion, creationTimestamp).
              """
              CREATE TABLE config_resources (
                api_group TEXT NOT NULL,
                kind TEXT NOT NULL,
                namespace TEXT NOT NULL,
                name TEXT NOT NULL,
                resource_version INTEGER NOT NULL,
                creation_timestamp TEXT NOT NULL,
                document TEXT NOT NULL,
                PRIMARY KEY (api_group, kind, namespace, name)
              ) WITHOUT ROWID""",
              // Named counters and flags: config.resourceVersion, config.importedJson, ...
              """
              CREATE TABLE counters (
                name TEXT NOT NULL PRIMARY KEY,
                value INTEGER NOT NULL
              ) WITHOUT ROWID"""));

  private final Path file;
  private final Connection connection;
  private final ReentrantLock lock = new ReentrantLock();

  private StoreDatabase(Path file, Connection connection) {
    this.file = file;
    this.connection = connection;
  }

  /**
   * Opens (creating when absent) {@code dir/weft.db} and brings its schema up to date.
   *
   * @throws IOException when the file cannot be opened or is not a database Weft can read (the
   *     message names the file)
   */
  public static StoreDatabase open(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path file = dir.resolve(FILE_NAME);
    Connection c;
    try {
      // The driver directly, not through DriverManager's service lookup: nothing to register.
      SQLiteDataSource ds = new SQLiteDataSource();
      ds.setUrl("jdbc:sqlite:" + file.toAbsolutePath());
      c = ds.getConnection();
    } catch (SQLException e) {
      throw new IOException("cannot open the store database " + file + ": " + e.getMessage(), e);
    }
    StoreDatabase db = new StoreDatabase(file, c);
    try {
      try (Statement s = c.createStatement()) {
        // Another process on the same state directory (a second control plane starting) may hold
        // the write lock for a moment: wait for it instead of failing at once.
        s.execute("PRAGMA busy_timeout = 10000");
        try (ResultSet rs = s.executeQuery("PRAGMA journal_mode = WAL")) {
          if (!rs.next() || !"wal".equalsIgnoreCase(rs.getString(1))) {
            throw new SQLException("cannot switch to WAL mode");
          }
        }
        s.execute("PRAGMA synchronous = FULL");
        s.execute("PRAGMA foreign_keys = ON");
      }
      c.setAutoCommit(false);
      db.migrate();
    } catch (SQLException | RuntimeException e) {
      db.close();
      throw new IOException("cannot open the store database " + file + ": " + e.getMessage(), e);
    }
    return db;
  }

  /** The database file. */
  public Path file() {
    return file;
  }

  /** Work to run inside a transaction, given the connection (auto-commit is off). */
  @FunctionalInterface
  public interface Work<T> {
    T run(Connection connection) throws SQLException, IOException;
  }

  /**
   * Runs {@code work} in one transaction under the database's lock and commits it; when {@code
   * work} throws, rolls back (nothing it wrote stays) and rethrows. When this returns, the commit
   * is on disk (fsynced).
   *
   * @throws IOException when {@code work} or the commit fails; the message names the file
   */
  public <T> T transaction(Work<T> work) throws IOException {
    lock.lock();
    try {
      try {
        T result = work.run(connection);
        connection.commit();
        return result;
      } catch (SQLException | IOException | RuntimeException e) {
        rollback(e);
        if (e instanceof IOException io) {
          throw io;
        }
        if (e instanceof RuntimeException re) {
          throw re;
        }
        throw new IOException("store database " + file + ": " + e.getMessage(), e);
      }
    } finally {
      lock.unlock();
    }
  }

  private void rollback(Exception cause) {
    try {
      connection.rollback();
    } catch (SQLException r) {
      cause.addSuppressed(r);
    }
  }

  private void migrate() throws SQLException {
    int version;
    try (Statement s = connection.createStatement();
        ResultSet rs = s.executeQuery("PRAGMA user_version")) {
      version = rs.next() ? rs.getInt(1) : 0;
    }
    if (version > MIGRATIONS.size()) {
      throw new SQLException(
          "schema version "
              + version
              + " is newer than this Weft knows ("
              + MIGRATIONS.size()
              + "); use a newer weft");
    }
    try {
      for (int v = version; v < MIGRATIONS.size(); v++) {
        try (Statement s = connection.createStatement()) {
          for (String sql : MIGRATIONS.get(v)) {
            s.execute(sql);
          }
          s.execute("PRAGMA user_version = " + (v + 1));
        }
      }
      connection.commit();
    } catch (SQLException e) {
      connection.rollback();
      throw e;
    }
  }

  /** Closes the connection (a no-op when closed). Uncommitted work is rolled back. */
  @Override
  public void close() {
    lock.lock();
    try {
      if (!connection.isClosed()) {
        connection.close();
      }
    } catch (SQLException e) {
      System.getLogger(StoreDatabase.class.getName())
          .log(System.Logger.Level.DEBUG, "closing " + file, e);
    } finally {
      lock.unlock();
    }
  }
}
