import java.io.FileInputStream;
import java.io.InputStream;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.iceberg.CatalogUtil;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.rest.RESTCatalogAdapter;
import org.apache.iceberg.rest.RESTCatalogServlet;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * Apache Iceberg's REST catalog (RESTCatalogAdapter behind RESTCatalogServlet, as Iceberg's own
 * RESTCatalogServer serves it) on one host and port only: RESTCatalogServer binds every interface.
 *
 * <p>java RestCatalogLauncher FILE: FILE is a properties file; rest.host (default 127.0.0.1) and
 * rest.port (default 0: any free port) place the server, every other property configures the
 * catalog (CatalogUtil.buildIcebergCatalog; a JdbcCatalog unless catalog-impl says otherwise).
 * Prints "listening on http://HOST:PORT" once it serves.
 */
public final class RestCatalogLauncher {
  private RestCatalogLauncher() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: RestCatalogLauncher PROPERTIES_FILE");
      System.exit(2);
    }
    Properties file = new Properties();
    try (InputStream in = new FileInputStream(args[0])) {
      file.load(in);
    }
    Map<String, String> properties = new HashMap<>();
    file.stringPropertyNames().forEach(name -> properties.put(name, file.getProperty(name)));
    String host = properties.getOrDefault("rest.host", "127.0.0.1");
    int port = Integer.parseInt(properties.getOrDefault("rest.port", "0"));
    properties.keySet().removeIf(name -> name.startsWith("rest."));
    properties.putIfAbsent("catalog-impl", "org.apache.iceberg.jdbc.JdbcCatalog");

    // No Hadoop configuration: the catalog's FileIO (io-impl) does not need one.
    Catalog catalog = CatalogUtil.buildIcebergCatalog("lakehouse_rest", properties, null);
    ServletContextHandler context = new ServletContextHandler(ServletContextHandler.NO_SESSIONS);
    context.addServlet(new ServletHolder(new RESTCatalogServlet(new RESTCatalogAdapter(catalog))), "/*");
    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost(host);
    connector.setPort(port);
    server.addConnector(connector);
    server.setHandler(context);
    server.setStopAtShutdown(true);
    server.start();
    System.out.println("listening on http://" + host + ":" + connector.getLocalPort());
    server.join();
  }
}
