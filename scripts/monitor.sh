#!/bin/sh
# What the transcoding system is doing now: the job queue (waiting, in
# flight, oldest), the dead-letter queue, the ECS service (desired / running
# tasks), the GPU instances (and which are Spot), the alarms, and the most
# recent failed jobs from Supabase. Refreshes every 10 s; --once prints one
# report. The AWS figures come from the aws CLI (your credentials), the job
# failures from the Supabase REST API. docs/operations.md explains each line.
#
#   scripts/monitor.sh [--once] [--stack NAME] [--region REGION]
#
# Environment: AWS_* (the aws CLI's own), SUPABASE_URL and
# SUPABASE_SERVICE_KEY (optional: the failure list), RCX_MONITOR_INTERVAL.
set -eu

stack=rugbycodex
once=0
region="${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}"
while [ $# -gt 0 ]; do
  case "$1" in
    --once) once=1 ;;
    --stack) stack="$2"; shift ;;
    --region) region="$2"; shift ;;
    -h|--help)
      sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
      exit 0 ;;
    *) echo "monitor: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

aws_() { aws --region "$region" --output text "$@"; }

output() {
  aws_ cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue"
}

queue_line() {
  # $1 label, $2 queue URL
  aws_ sqs get-queue-attributes --queue-url "$2" --attribute-names \
      ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible ApproximateNumberOfMessagesDelayed \
    --query 'Attributes.[ApproximateNumberOfMessages,ApproximateNumberOfMessagesNotVisible,ApproximateNumberOfMessagesDelayed]' |
    while read -r visible inflight delayed; do
      printf '%-12s waiting %s  in flight %s  delayed %s\n' "$1" "$visible" "$inflight" "$delayed"
    done
}

oldest_line() {
  # CloudWatch has the age of the oldest message; SQS has not.
  name=${1##*/}
  start=$(date -u -d '-10 minutes' +%Y-%m-%dT%H:%M:%SZ)
  end=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  age=$(aws_ cloudwatch get-metric-statistics --namespace AWS/SQS --metric-name ApproximateAgeOfOldestMessage \
    --dimensions "Name=QueueName,Value=$name" --start-time "$start" --end-time "$end" --period 300 \
    --statistics Maximum --query 'max(Datapoints[].Maximum)')
  printf '%-12s oldest message %s s (CloudWatch, last 10 min)\n' "" "$age"
}

failures() {
  if [ -z "${SUPABASE_URL:-}" ] || [ -z "${SUPABASE_SERVICE_KEY:-}" ]; then
    echo "failures     (set SUPABASE_URL and SUPABASE_SERVICE_KEY to list the last failed jobs)"
    return
  fi
  curl -sS --max-time 10 \
    -H "apikey: $SUPABASE_SERVICE_KEY" -H "Authorization: Bearer $SUPABASE_SERVICE_KEY" \
    "$SUPABASE_URL/rest/v1/jobs?state=eq.failed&order=finished_at.desc&limit=5&select=id,media_id,attempts,finished_at,error_reason" |
    python3 -c '
import json, sys
rows = json.load(sys.stdin)
if isinstance(rows, dict):
    sys.exit("failures     Supabase answered: %s" % rows.get("message", rows))
print("failures     %d most recent failed jobs" % len(rows))
for r in rows:
    print("  %s  job %s  media %s  attempts %s: %s" % (r["finished_at"], r["id"], r["media_id"],
                                                     r["attempts"], (r["error_reason"] or "")[:120]))
'
}

report() {
  queue=$(output QueueUrl)
  dlq=$(output DeadLetterQueueUrl)
  cluster=$(output ClusterName)
  service=$(output ServiceName)
  asg=$(output AutoScalingGroupName)
  date -u '+%Y-%m-%d %H:%M:%S UTC'
  queue_line queue "$queue"
  oldest_line "$queue"
  queue_line dead-letter "$dlq"
  aws_ ecs describe-services --cluster "$cluster" --services "$service" \
    --query 'services[0].[desiredCount,runningCount,pendingCount]' |
    while read -r desired running pending; do
      printf 'tasks        desired %s  running %s  pending %s\n' "$desired" "$running" "$pending"
    done
  aws_ autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$asg" \
    --query 'AutoScalingGroups[0].[DesiredCapacity,MinSize,MaxSize]' |
    while read -r desired min max; do
      printf 'instances    desired %s  (min %s, max %s)\n' "$desired" "$min" "$max"
    done
  # shellcheck disable=SC2016 # `on-demand` is a JMESPath literal, not a shell expansion
  aws_ ec2 describe-instances --filters "Name=tag:aws:autoscaling:groupName,Values=$asg" \
      "Name=instance-state-name,Values=pending,running,shutting-down" \
    --query 'Reservations[].Instances[].[InstanceId,InstanceType,InstanceLifecycle || `on-demand`,State.Name,LaunchTime]' |
    while read -r id type life state launched; do
      printf '  %s  %-13s %-9s %-8s since %s\n' "$id" "$type" "$life" "$state" "$launched"
    done
  aws_ cloudwatch describe-alarms --alarm-name-prefix "$stack-" --state-value ALARM \
    --query 'MetricAlarms[].AlarmName' | tr '\t' '\n' | sed '/^$/d; s/^/alarm        ALARM: /'
  failures
}

while :; do
  report
  [ "$once" = 1 ] && break
  sleep "${RCX_MONITOR_INTERVAL:-10}"
  echo
done
