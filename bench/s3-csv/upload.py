"""Creates bucket S3_BUCKET on the local S3 server and uploads DATA/*.csv
under S3_PREFIX/ (moto keeps objects in its process: upload after each start).
Run with moto's venv (boto3)."""
import glob, os
import boto3
from boto3.s3.transfer import TransferConfig

s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT"], region_name="us-east-1")
bucket, prefix = os.environ["S3_BUCKET"], os.environ["S3_PREFIX"]
s3.create_bucket(Bucket=bucket)
paths = sorted(glob.glob(os.path.join(os.environ["DATA"], "*.csv")))
cfg = TransferConfig(multipart_threshold=1 << 30)  # one PUT per file
for p in paths:
    s3.upload_file(p, bucket, "%s/%s" % (prefix, os.path.basename(p)), Config=cfg)
listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix + "/")
print("uploaded %d files, %.1f MiB, to s3://%s/%s/" % (
    listed["KeyCount"], sum(o["Size"] for o in listed["Contents"]) / 2**20, bucket, prefix))
