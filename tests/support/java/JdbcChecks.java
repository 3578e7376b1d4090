/*
 * Drives a tenantgate gateway with pgjdbc, the way JDBC tools use it, and prints what
 * came back as one JSON line: "@result {name: {ok: true, value: ...} | {ok: false, error: ...}}".
 * Every check runs on its own connection, so one failure cannot spoil the next check.
 *
 *   java -Duser.timezone=UTC -cp postgresql.jar JdbcChecks.java host=... port=... db=... \
 *     user=... password=... sslrootcert=... endless=<a query that runs until cancelled> [only=a,b]
 *
 * Before a query that must be cancelled, it prints "@await-running" and waits for a line
 * on stdin: the test sends it once the gateway reports the query running.
 */
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.sql.Types;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGResultSetMetaData;
import org.postgresql.PGStatement;

public class JdbcChecks {
  static final Map<String, String> opt = new HashMap<>();
  static final Map<String, Object> results = new LinkedHashMap<>();
  static final BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
  static Set<String> only;

  interface Body { Object run() throws Exception; }
  interface Action { void run() throws Exception; }

  public static void main(String[] args) throws Exception {
    for (String a : args) {
      int eq = a.indexOf('=');
      opt.put(a.substring(0, eq), a.substring(eq + 1));
    }
    if (opt.containsKey("only")) only = Set.of(opt.get("only").split(","));

    check("tls", JdbcChecks::tls);
    check("plaintextRefused", JdbcChecks::plaintextRefused);
    check("getObjectTypes", JdbcChecks::getObjectTypes);
    check("resultSetMetaData", JdbcChecks::resultSetMetaData);
    check("parameters", JdbcChecks::parameters);
    check("parametersInWhere", JdbcChecks::parametersInWhere);
    check("javaTime", JdbcChecks::javaTime);
    check("unconstrainedNumeric", JdbcChecks::unconstrainedNumeric);
    check("prepareThreshold", JdbcChecks::prepareThreshold);
    check("fetchSize", JdbcChecks::fetchSize);
    check("errorsAutocommit", JdbcChecks::errorsAutocommit);
    check("errorsInTransaction", JdbcChecks::errorsInTransaction);
    check("errorInServerPreparedStatement", JdbcChecks::errorInServerPreparedStatement);
    check("savepoints", JdbcChecks::savepoints);
    check("autosave", JdbcChecks::autosave);
    check("queryTimeout", JdbcChecks::queryTimeout);
    check("cancelFromAnotherThread", JdbcChecks::cancelFromAnotherThread);
    check("databaseMetaData", JdbcChecks::databaseMetaData);
    check("metaDataTables", JdbcChecks::metaDataTables);
    check("metaDataColumns", JdbcChecks::metaDataColumns);
    check("metaDataMore", JdbcChecks::metaDataMore);
    check("extraTypes", JdbcChecks::extraTypes);

    System.out.println("@result " + Json.write(results));
    System.out.flush();
    System.exit(0);
  }

  // ---------------------------------------------------------------------------------------
  // Checks

  /** verify-full against the test CA: the certificate names 127.0.0.1. */
  static Object tls() throws Exception {
    try (Connection c = connect(new Properties())) {
      return obj("one", scalar(c, "SELECT 1 AS one"), "autocommit", c.getAutoCommit());
    }
  }

  /** The gateway requires TLS: a plaintext login is refused before any password is sent. */
  static Object plaintextRefused() throws Exception {
    Properties p = new Properties();
    p.setProperty("user", opt.get("user"));
    p.setProperty("password", opt.get("password"));
    p.setProperty("sslmode", "disable");
    return sqlError(() -> DriverManager.getConnection(baseUrl(), p).close());
  }

  /** Every column type of table `typed`, read back with getObject. */
  static Object getObjectTypes() throws Exception {
    try (Connection c = connect(new Properties()); Statement s = c.createStatement();
         ResultSet r = s.executeQuery("SELECT * FROM typed")) {
      return rowObjects(r);
    }
  }

  static Object resultSetMetaData() throws Exception {
    try (Connection c = connect(new Properties()); Statement s = c.createStatement();
         ResultSet r = s.executeQuery("SELECT i, l, s, d, f, b, n, t, dt, ts, bin, u FROM typed")) {
      ResultSetMetaData md = r.getMetaData();
      List<Object> cols = new ArrayList<>();
      for (int i = 1; i <= md.getColumnCount(); i++) {
        cols.add(obj("label", md.getColumnLabel(i), "type", md.getColumnType(i), "typeName", md.getColumnTypeName(i),
            "className", md.getColumnClassName(i)));
      }
      return cols;
    }
  }

  /** One parameter of each Java type, cast to its SQL type, and getObject of each. */
  static Object parameters() throws Exception {
    try (Connection c = connect(new Properties());
         PreparedStatement p = c.prepareStatement(
             "SELECT ?::int4 AS i, ?::int8 AS l, ?::int2 AS s, ?::float8 AS d, ?::float4 AS f, ?::bool AS b, ?::numeric(12,4) AS n, "
                 + "?::text AS t, ?::date AS dt, ?::timestamp AS ts, ?::bytea AS bin, ?::uuid AS u, ?::int4 AS nothing")) {
      bindAll(p);
      p.setNull(13, Types.INTEGER);
      try (ResultSet r = p.executeQuery()) {
        return rowObjects(r);
      }
    }
  }

  /** The same values compared with columns, without casts: the types come from the columns. */
  static Object parametersInWhere() throws Exception {
    try (Connection c = connect(new Properties());
         PreparedStatement p = c.prepareStatement(
             "SELECT count(*) AS n FROM typed WHERE i = ? AND l = ? AND s = ? AND d = ? AND f = ? AND b = ? AND n = ? "
                 + "AND t = ? AND dt = ? AND ts = ? AND bin = ? AND u = ?")) {
      bindAll(p);
      try (ResultSet r = p.executeQuery()) {
        r.next();
        return r.getObject(1).toString();
      }
    }
  }

  static void bindAll(PreparedStatement p) throws SQLException {
    p.setInt(1, 42);
    p.setLong(2, 9007199254740993L);
    p.setShort(3, (short) -7);
    p.setDouble(4, 2.5);
    p.setFloat(5, 1.25f);
    p.setBoolean(6, true);
    p.setBigDecimal(7, new BigDecimal("12345.6789"));
    p.setString(8, "Grüße, ☕");
    p.setDate(9, java.sql.Date.valueOf("2024-02-29"));
    p.setTimestamp(10, java.sql.Timestamp.valueOf("2024-01-02 03:04:05.123456"));
    p.setBytes(11, new byte[] {0, (byte) 0xff});
    p.setObject(12, UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
  }

  /**
   * setBigDecimal where the SQL gives no scale: bare, cast to numeric, and compared with a
   * numeric(12,4) column. PostgreSQL keeps every digit of an unconstrained numeric.
   */
  static Object unconstrainedNumeric() throws Exception {
    try (Connection c = connect(new Properties());
         PreparedStatement p = c.prepareStatement("SELECT ? AS bare, ?::numeric AS cast, (SELECT count(*) FROM typed WHERE n = ?) AS matches")) {
      Map<String, Object> out = new LinkedHashMap<>();
      for (String v : new String[] {"12345.6789", "123456789012345678901.5"}) {
        BigDecimal d = new BigDecimal(v);
        p.setBigDecimal(1, d);
        p.setBigDecimal(2, d);
        p.setBigDecimal(3, d);
        try (ResultSet r = p.executeQuery()) {
          out.put(v, rowObjects(r));
        } catch (SQLException e) {
          out.put(v, err(e));
        }
      }
      return out;
    }
  }

  /** java.time values in both directions (JDBC 4.2). */
  static Object javaTime() throws Exception {
    try (Connection c = connect(new Properties());
         PreparedStatement p = c.prepareStatement("SELECT dt, ts FROM typed WHERE dt = ? AND ts = ?")) {
      p.setObject(1, LocalDate.of(2024, 2, 29));
      p.setObject(2, LocalDateTime.of(2024, 1, 2, 3, 4, 5, 123456000));
      try (ResultSet r = p.executeQuery()) {
        List<Object> rows = new ArrayList<>();
        while (r.next()) rows.add(List.of(describe(r.getObject(1, LocalDate.class)), describe(r.getObject(2, LocalDateTime.class))));
        return rows;
      }
    }
  }

  /**
   * pgjdbc runs a PreparedStatement through the unnamed statement 4 times, then (prepareThreshold
   * 5) parses a named server statement and switches results to binary: every run must read the
   * same. Each run reports its result formats, one letter per column (t text, b binary).
   */
  static Object prepareThreshold() throws Exception {
    try (Connection c = connect(new Properties());
         PreparedStatement p = c.prepareStatement(
             "SELECT order_id, quantity, unit_price, order_date, product, shipped_at FROM orders WHERE order_id = ?")) {
      List<Object> runs = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        p.setLong(1, 100 + i);
        try (ResultSet r = p.executeQuery()) {
          Map<String, Object> run = obj("serverPrepared", p.unwrap(PGStatement.class).isUseServerPrepare());
          PGResultSetMetaData md = r.getMetaData().unwrap(PGResultSetMetaData.class);
          StringBuilder formats = new StringBuilder();
          for (int col = 1; col <= r.getMetaData().getColumnCount(); col++) formats.append(md.getFormat(col) == 1 ? 'b' : 't');
          run.put("formats", formats.toString());
          run.put("row", rowObjects(r));
          runs.add(run);
        }
      }
      return runs;
    }
  }

  /**
   * With autocommit off and a fetch size, pgjdbc reads through a named portal, Execute with a
   * row limit of 100 at a time; two such result sets are read interleaved.
   */
  static Object fetchSize() throws Exception {
    try (Connection c = connect(new Properties())) {
      c.setAutoCommit(false);
      try (Statement a = c.createStatement(); Statement b = c.createStatement()) {
        a.setFetchSize(100);
        b.setFetchSize(100);
        ResultSet ra = a.executeQuery("SELECT order_id FROM orders ORDER BY order_id");
        ResultSet rb = b.executeQuery("SELECT order_id FROM orders ORDER BY order_id DESC");
        long n = 0, sumA = 0, sumB = 0;
        boolean inOrder = true;
        while (ra.next()) {
          if (!rb.next()) throw new IllegalStateException("second result ended early");
          if (ra.getLong(1) != n || rb.getLong(1) != 999 - n) inOrder = false;
          sumA += ra.getLong(1);
          sumB += rb.getLong(1);
          n++;
        }
        boolean bDone = !rb.next();
        ra.close();
        rb.close();
        Object after = scalar(c, "SELECT count(*) FROM orders");
        c.commit();
        return obj("rows", n, "sumA", sumA, "sumB", sumB, "inOrder", inOrder, "secondEnded", bDone, "countAfter", after,
            "fetchSize", a.getFetchSize());
      }
    }
  }

  static Object errorsAutocommit() throws Exception {
    try (Connection c = connect(new Properties()); Statement s = c.createStatement()) {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("syntax", sqlError(() -> s.executeQuery("SELEC 1")));
      out.put("unknownTable", sqlError(() -> s.executeQuery("SELECT * FROM no_such_table")));
      out.put("write", sqlError(() -> s.executeUpdate("DELETE FROM orders")));
      out.put("ddl", sqlError(() -> s.execute("CREATE TABLE t2 (x int)")));
      try (PreparedStatement p = c.prepareStatement("SELECT ?::int AS v")) {
        p.setString(1, "abc");
        out.put("badParameter", sqlError(p::executeQuery));
        p.setString(1, "17");
        out.put("afterBadParameter", single(p.executeQuery()));
      }
      out.put("after", scalar(c, "SELECT 5 AS five"));
      return out;
    }
  }

  static Object errorsInTransaction() throws Exception {
    try (Connection c = connect(new Properties()); Statement s = c.createStatement()) {
      c.setAutoCommit(false);
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("before", scalar(c, "SELECT count(*) FROM orders"));
      out.put("unknownTable", sqlError(() -> s.executeQuery("SELECT * FROM no_such_table")));
      out.put("aborted", sqlError(() -> s.executeQuery("SELECT 1")));
      c.rollback();
      out.put("afterRollback", scalar(c, "SELECT 2"));
      out.put("write", sqlError(() -> s.executeUpdate("UPDATE orders SET quantity = 0")));
      c.rollback();
      out.put("syntax", sqlError(() -> s.executeQuery("SELECT FROM WHERE")));
      c.rollback();
      out.put("afterSecondRollback", scalar(c, "SELECT 3"));
      c.commit();
      c.setAutoCommit(true);
      out.put("autocommitAgain", scalar(c, "SELECT 4"));
      return out;
    }
  }

  /** An error on the 7th run of a server-prepared statement; the statement keeps working. */
  static Object errorInServerPreparedStatement() throws Exception {
    try (Connection c = connect(new Properties()); PreparedStatement p = c.prepareStatement("SELECT CAST(? AS integer) + 1 AS v")) {
      List<Object> runs = new ArrayList<>();
      for (int i = 1; i <= 10; i++) {
        p.setString(1, i == 7 ? "x" : String.valueOf(i));
        try (ResultSet r = p.executeQuery()) {
          r.next();
          runs.add(describe(r.getObject(1)));
        } catch (SQLException e) {
          runs.add(err(e));
        }
      }
      return runs;
    }
  }

  static Object savepoints() throws Exception {
    try (Connection c = connect(new Properties()); Statement s = c.createStatement()) {
      c.setAutoCommit(false);
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("first", scalar(c, "SELECT 1"));
      Savepoint sp = c.setSavepoint("before_error");
      out.put("error", sqlError(() -> s.executeQuery("SELECT * FROM no_such_table")));
      c.rollback(sp);
      out.put("afterRollbackTo", scalar(c, "SELECT 2"));
      c.releaseSavepoint(c.setSavepoint());
      c.commit();
      return out;
    }
  }

  /** autosave=always wraps each statement in a savepoint: a transaction survives an error. */
  static Object autosave() throws Exception {
    Properties p = new Properties();
    p.setProperty("autosave", "always");
    try (Connection c = connect(p); Statement s = c.createStatement()) {
      c.setAutoCommit(false);
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("first", scalar(c, "SELECT 1"));
      out.put("error", sqlError(() -> s.executeQuery("SELECT * FROM no_such_table")));
      out.put("sameTransaction", scalar(c, "SELECT 2"));
      c.commit();
      return out;
    }
  }

  /** setQueryTimeout: pgjdbc's timer sends a CancelRequest after 1 s. */
  static Object queryTimeout() throws Exception {
    try (Connection c = connect(new Properties()); Statement s = c.createStatement()) {
      s.setQueryTimeout(1);
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("error", sqlError(() -> s.executeQuery(opt.get("endless"))));
      s.setQueryTimeout(0);
      out.put("after", scalar(c, "SELECT 6"));
      return out;
    }
  }

  /**
   * Statement.cancel() from a second thread while the first waits for the result. cancel()
   * does nothing unless the statement is executing, so it is repeated until the query ends.
   */
  static Object cancelFromAnotherThread() throws Exception {
    try (Connection c = connect(new Properties()); Statement s = c.createStatement()) {
      Object[] cancelError = new Object[1];
      CountDownLatch finished = new CountDownLatch(1);
      Thread canceller = new Thread(() -> {
        try {
          awaitRunning();
          do s.cancel(); while (!finished.await(1, TimeUnit.SECONDS));
        } catch (Exception e) {
          cancelError[0] = e.toString();
        }
      });
      canceller.start();
      Map<String, Object> out = new LinkedHashMap<>();
      try {
        out.put("error", sqlError(() -> s.executeQuery(opt.get("endless"))));
      } finally {
        finished.countDown();
      }
      canceller.join();
      out.put("cancelError", cancelError[0]);
      out.put("after", scalar(c, "SELECT 7"));
      return out;
    }
  }

  /** Product and version (from the startup), catalog, and the schema (pgjdbc asks select current_schema()). */
  static Object databaseMetaData() throws Exception {
    try (Connection c = connect(new Properties())) {
      var md = c.getMetaData();
      return obj("product", md.getDatabaseProductName(), "major", md.getDatabaseMajorVersion(), "catalog", c.getCatalog(),
          "schema", c.getSchema(), "readOnly", c.isReadOnly(), "user", md.getUserName());
    }
  }

  static Object metaDataTables() throws Exception {
    try (Connection c = connect(new Properties());
         ResultSet r = c.getMetaData().getTables(null, null, "%", new String[] {"TABLE", "VIEW"})) {
      List<Object> rows = new ArrayList<>();
      while (r.next()) rows.add(List.of(r.getString("TABLE_SCHEM"), r.getString("TABLE_NAME"), r.getString("TABLE_TYPE")));
      return rows;
    }
  }

  static Object metaDataColumns() throws Exception {
    try (Connection c = connect(new Properties());
         ResultSet r = c.getMetaData().getColumns(null, null, "orders", "%")) {
      List<Object> rows = new ArrayList<>();
      while (r.next()) {
        rows.add(List.of(r.getString("COLUMN_NAME"), r.getInt("DATA_TYPE"), r.getString("TYPE_NAME"), r.getInt("ORDINAL_POSITION")));
      }
      return rows;
    }
  }

  /** What DBeaver and Metabase ask beyond tables and columns: schemas, catalogs, keys, indexes, types. */
  static Object metaDataMore() throws Exception {
    try (Connection c = connect(new Properties())) {
      var md = c.getMetaData();
      List<Object> schemas = new ArrayList<>();
      try (ResultSet r = md.getSchemas()) { while (r.next()) schemas.add(r.getString("TABLE_SCHEM")); }
      List<Object> catalogs = new ArrayList<>();
      try (ResultSet r = md.getCatalogs()) { while (r.next()) catalogs.add(r.getString("TABLE_CAT")); }
      int pk = 0, imported = 0, indexes = 0, types = 0;
      boolean hasInt4 = false, hasText = false;
      try (ResultSet r = md.getPrimaryKeys(null, "public", "orders")) { while (r.next()) pk++; }
      try (ResultSet r = md.getImportedKeys(null, "public", "orders")) { while (r.next()) imported++; }
      try (ResultSet r = md.getIndexInfo(null, "public", "orders", false, true)) { while (r.next()) indexes++; }
      try (ResultSet r = md.getTypeInfo()) {
        while (r.next()) {
          types++;
          String name = r.getString("TYPE_NAME");
          if ("int4".equals(name)) hasInt4 = true;
          if ("text".equals(name)) hasText = true;
        }
      }
      return obj("schemas", schemas, "catalogs", catalogs, "primaryKeys", pk, "importedKeys", imported, "indexes", indexes,
          "manyTypes", types > 50, "int4", hasInt4, "text", hasText);
    }
  }

  /** Types whose getObject class pgjdbc finds by name: interval, json, arrays. */
  static Object extraTypes() throws Exception {
    try (Connection c = connect(new Properties()); Statement s = c.createStatement();
         ResultSet r = s.executeQuery("SELECT INTERVAL '1 day 02:03:04' AS iv, '{\"a\":1}'::JSON AS j, ARRAY[1, 2, NULL]::INTEGER[] AS arr")) {
      r.next();
      java.sql.Array arr = r.getArray(3);
      return obj("interval", describe(r.getObject(1)), "json", describe(r.getObject(2)),
          "array", obj("baseTypeName", arr.getBaseTypeName(), "elements", describe(arr.getArray())));
    }
  }

  // ---------------------------------------------------------------------------------------
  // Helpers

  static String baseUrl() {
    return "jdbc:postgresql://" + opt.get("host") + ":" + opt.get("port") + "/" + opt.get("db");
  }

  static Connection connect(Properties extra) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", opt.get("user"));
    p.setProperty("password", opt.get("password"));
    // sslmode=disable may be given only to trace the protocol through a gateway with allowPlaintext.
    p.setProperty("sslmode", opt.getOrDefault("sslmode", "verify-full"));
    p.setProperty("sslrootcert", opt.get("sslrootcert"));
    p.putAll(extra);
    return DriverManager.getConnection(baseUrl(), p);
  }

  static void check(String name, Body body) {
    if (only != null && !only.contains(name)) return;
    try {
      results.put(name, obj("ok", true, "value", body.run()));
    } catch (Throwable t) {
      results.put(name, obj("ok", false, "error", t instanceof SQLException ? err((SQLException) t) : obj("class", t.getClass().getName(), "message", String.valueOf(t.getMessage()))));
    }
  }

  /** Runs something that must fail with an SQLException, and describes the failure. */
  static Map<String, Object> sqlError(Action body) throws Exception {
    try {
      body.run();
    } catch (SQLException e) {
      return err(e);
    }
    throw new IllegalStateException("expected an SQLException, got none");
  }

  static Map<String, Object> err(SQLException e) {
    String msg = String.valueOf(e.getMessage());
    if (e instanceof org.postgresql.util.PSQLException) {
      var server = ((org.postgresql.util.PSQLException) e).getServerErrorMessage();
      if (server != null) msg = server.getMessage();
    }
    return obj("sqlstate", e.getSQLState(), "message", msg, "class", e.getClass().getName());
  }

  static Object scalar(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
      return single(r);
    }
  }

  static Object single(ResultSet r) throws SQLException {
    try (r) {
      if (!r.next()) throw new IllegalStateException("no row");
      return describe(r.getObject(1));
    }
  }

  static Map<String, Object> rowObjects(ResultSet r) throws SQLException {
    if (!r.next()) throw new IllegalStateException("no row");
    Map<String, Object> row = new LinkedHashMap<>();
    ResultSetMetaData md = r.getMetaData();
    for (int i = 1; i <= md.getColumnCount(); i++) row.put(md.getColumnLabel(i), describe(r.getObject(i)));
    if (r.next()) throw new IllegalStateException("more than one row");
    return row;
  }

  /** A value as its Java class and its text: enough to assert both precisely. */
  static Object describe(Object v) throws SQLException {
    if (v == null) return null;
    if (v instanceof byte[]) {
      StringBuilder hex = new StringBuilder();
      for (byte b : (byte[]) v) hex.append(String.format("%02x", b));
      return obj("class", "byte[]", "value", hex.toString());
    }
    if (v instanceof Object[]) {
      return obj("class", v.getClass().getComponentType().getName() + "[]", "value", Arrays.toString((Object[]) v));
    }
    return obj("class", v.getClass().getName(), "value", v.toString());
  }

  static void awaitRunning() throws Exception {
    synchronized (System.out) {
      System.out.println("@await-running");
      System.out.flush();
    }
    stdin.readLine();
  }

  static Map<String, Object> obj(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
    return m;
  }

  /** The JSON this program prints: maps, lists, strings, numbers, booleans and null. */
  static final class Json {
    static String write(Object v) {
      StringBuilder sb = new StringBuilder();
      write(sb, v);
      return sb.toString();
    }

    static void write(StringBuilder sb, Object v) {
      if (v == null) sb.append("null");
      else if (v instanceof Boolean) sb.append(v);
      else if (v instanceof Integer || v instanceof Long) sb.append(v);
      else if (v instanceof Map) {
        sb.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
          if (!first) sb.append(',');
          first = false;
          string(sb, String.valueOf(e.getKey()));
          sb.append(':');
          write(sb, e.getValue());
        }
        sb.append('}');
      } else if (v instanceof List) {
        sb.append('[');
        boolean first = true;
        for (Object o : (List<?>) v) {
          if (!first) sb.append(',');
          first = false;
          write(sb, o);
        }
        sb.append(']');
      } else string(sb, v.toString());
    }

    static void string(StringBuilder sb, String s) {
      sb.append('"');
      for (int i = 0; i < s.length(); i++) {
        char ch = s.charAt(i);
        if (ch == '"' || ch == '\\') sb.append('\\').append(ch);
        else if (ch < 0x20 || ch > 0x7e) sb.append(String.format("\\u%04x", (int) ch));
        else sb.append(ch);
      }
      sb.append('"');
    }
  }
}
