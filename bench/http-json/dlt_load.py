"""dlt's rest_api source: every page of http://127.0.0.1:HTTP_PORT/records
into table `records` of dataset `dlt_http` in a SQLite file, replaced.

Usage: python dlt_load.py DB_FILE
  The source is rest_api_source with a page_number paginator (base_page 1,
  total_path meta.total_pages), data_selector "data", primary key id;
  max_table_nesting=0 so `address` and `tags` land as JSON columns as they do
  in Tributary (dlt's default would unnest them into columns and a child
  table: more work for dlt, a different result). The destination is dlt's
  sqlalchemy destination on sqlite:///DB_FILE (dlt attaches the dataset as
  DB_FILE's stem + "__dlt_http.db"). Every other setting is dlt's default.
Prints the seconds pipeline.run took (extract, normalize and load; imports not counted)."""
import os, sys, time
import dlt
from dlt.sources.rest_api import rest_api_source

db = sys.argv[1]
source = rest_api_source({
    "client": {
        "base_url": "http://127.0.0.1:%s/" % os.environ["HTTP_PORT"],
        "paginator": {"type": "page_number", "page_param": "page", "base_page": 1,
                      "total_path": "meta.total_pages"},
    },
    "resource_defaults": {"primary_key": "id", "write_disposition": "replace"},
    "resources": [{"name": "records",
                   "endpoint": {"path": "records", "params": {"per_page": int(os.environ["PER_PAGE"])},
                                "data_selector": "data"}}],
}, max_table_nesting=0)
pipeline = dlt.pipeline(pipeline_name="http_json", pipelines_dir=os.environ["WORK"] + "/dlt",
                        destination=dlt.destinations.sqlalchemy("sqlite:///" + db),
                        dataset_name="dlt_http")
t0 = time.perf_counter()
info = pipeline.run(source)
t1 = time.perf_counter()
print(info)
print("SECONDS %.3f" % (t1 - t0))
