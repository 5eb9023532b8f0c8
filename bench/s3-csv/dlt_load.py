"""dlt's filesystem source: s3://S3_BUCKET/S3_PREFIX/**/*.csv into table `events`
of dataset dlt_<reader>, replaced.

Usage: python dlt_load.py READER sqlite|postgres
  READER: pandas (read_csv: pandas chunks of 10,000 rows as dicts, dlt's documented reader)
        | duckdb (read_csv_duckdb(use_pyarrow=True): Arrow batches of 100,000 rows)
  sqlite:   dlt's sqlalchemy destination on sqlite:///$WORK/dlt/<reader>.db
  postgres: dlt's postgres destination on DST_URL
Prints the seconds pipeline.run took (extract, normalize and load; imports not counted)."""
import os, sys, time
import dlt
from dlt.common.configuration.specs import AwsCredentials
from dlt.sources.filesystem import filesystem, read_csv, read_csv_duckdb

reader, dest = sys.argv[1], sys.argv[2]
work = os.environ["WORK"]
creds = AwsCredentials(aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
                       endpoint_url=os.environ["S3_ENDPOINT"], region_name="us-east-1")
files = filesystem(bucket_url="s3://%s/%s" % (os.environ["S3_BUCKET"], os.environ["S3_PREFIX"]),
                   credentials=creds, file_glob="**/*.csv")
if reader == "pandas":
    events = files | read_csv()
else:
    events = files | read_csv_duckdb(use_pyarrow=True, chunk_size=100_000)
if dest == "sqlite":
    destination = dlt.destinations.sqlalchemy("sqlite:///%s/dlt/%s.db" % (work, reader))
else:
    destination = dlt.destinations.postgres(os.environ["DST_URL"])
pipeline = dlt.pipeline(pipeline_name="s3csv_%s_%s" % (reader, dest), pipelines_dir=work + "/dlt",
                        destination=destination, dataset_name="dlt_" + reader)
t0 = time.perf_counter()
info = pipeline.run(events.with_name("events"), write_disposition="replace")
t1 = time.perf_counter()
print(info)
print("SECONDS %.3f" % (t1 - t0))
