// Replaces kafkajs/src/producer/groupMessagesPerPartition.js in the bundle (see
// generator/kafkajs-patches.ts): the same groups, each in the order of `messages`, built in one
// pass instead of copying a partition's array for every message.
module.exports = ({ topic, partitionMetadata, messages, partitioner }) => {
  if (partitionMetadata.length === 0) return {};
  const groups = {};
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    const group = groups[partition];
    if (group) group.push(message);
    else groups[partition] = [message];
  }
  return groups;
};
