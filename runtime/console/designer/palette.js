// What the designer's palette offers: every state type, and Task presets for what
// Sandstep runs. Each item is a name to start from and the state's JSON: every preset is a valid state
// as it is (the form fills in the rest), so a drop never leaves the definition broken.

/** The state types, in the order AWS's Workflow Studio lists its flow states. */
export const FLOW = [
  { id: 'Pass', label: 'Pass', name: 'Pass', state: { Type: 'Pass' } },
  { id: 'Choice', label: 'Choice', name: 'Choice', state: { Type: 'Choice', Choices: [] } },
  { id: 'Wait', label: 'Wait', name: 'Wait', state: { Type: 'Wait', Seconds: 5 } },
  { id: 'Parallel', label: 'Parallel', name: 'Parallel',
    state: { Type: 'Parallel', Branches: [{ StartAt: 'Branch 1 start', States: { 'Branch 1 start': { Type: 'Pass', End: true } } }] } },
  { id: 'Map', label: 'Map', name: 'Map',
    state: { Type: 'Map', ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, StartAt: 'Process item', States: { 'Process item': { Type: 'Pass', End: true } } } } },
  { id: 'Succeed', label: 'Succeed', name: 'Succeed', state: { Type: 'Succeed' } },
  { id: 'Fail', label: 'Fail', name: 'Fail', state: { Type: 'Fail', Error: 'Failed', Cause: 'The workflow failed.' } },
];

/** Task presets for the tenant's `account` in `region`: what a Task runs, with the
 * parameters its integration needs. */
export const tasks = (region, account) => [
  { id: 'module', label: 'Module (Lambda invoke)', name: 'Invoke module',
    state: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'echo', 'Payload.$': '$' }, ResultSelector: { 'Payload.$': '$.Payload' } } },
  { id: 'activity', label: 'Activity', name: 'Activity',
    state: { Type: 'Task', Resource: `arn:aws:states:${region}:${account}:activity:my-activity`, TimeoutSeconds: 300 } },
  { id: 'dynamodb', label: 'DynamoDB PutItem', name: 'Put item',
    state: { Type: 'Task', Resource: 'arn:aws:states:::dynamodb:putItem', Parameters: { TableName: 'my-table', Item: { id: { 'S.$': '$.id' } } } } },
  { id: 's3', label: 'S3 PutObject', name: 'Put object',
    state: { Type: 'Task', Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: 'my-bucket', Key: 'key', 'Body.$': '$' } } },
  { id: 'sqs', label: 'SQS SendMessage', name: 'Send message',
    state: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage', Parameters: { QueueUrl: 'my-queue', 'MessageBody.$': '$' } } },
  { id: 'sns', label: 'SNS Publish', name: 'Publish',
    state: { Type: 'Task', Resource: 'arn:aws:states:::sns:publish', Parameters: { TopicArn: `arn:aws:sns:${region}:${account}:my-topic`, 'Message.$': '$' } } },
  { id: 'execution', label: 'Nested execution', name: 'Start execution',
    state: { Type: 'Task', Resource: 'arn:aws:states:::states:startExecution.sync:2', Parameters: { StateMachineArn: `arn:aws:states:${region}:${account}:stateMachine:child`, 'Input.$': '$' } } },
  { id: 'batch', label: 'Batch job', name: 'Submit job',
    state: { Type: 'Task', Resource: 'arn:aws:states:::batch:submitJob.sync', Parameters: { JobName: 'job', JobQueue: 'default', JobDefinition: 'echo' } } },
  { id: 'http', label: 'HTTP endpoint', name: 'Call endpoint',
    state: { Type: 'Task', Resource: 'arn:aws:states:::http:invoke', Parameters: { ApiEndpoint: 'https://api.example.com/', Method: 'GET', Authentication: { ConnectionArn: `arn:aws:events:${region}:${account}:connection/my-connection` } } } },
  { id: 'events', label: 'EventBridge PutEvents', name: 'Put event',
    state: { Type: 'Task', Resource: 'arn:aws:states:::events:putEvents', Parameters: { Entries: [{ Source: 'my.app', DetailType: 'Something happened', 'Detail.$': '$' }] } } },
];

/** Every palette item by id, for the tenant's `account` in `region`. */
export const items = (region, account) => new Map([...FLOW, ...tasks(region, account)].map((item) => [item.id, item]));
