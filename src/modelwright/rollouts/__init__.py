"""Progressive rollouts of a new deployment on an endpoint: traffic shifted in steps, each
baked and judged by alarms on the new deployment's own serving statistics, rolled back at
once when one fires. A rollout runs as a durable workflow (``tasks._rollout``)."""
