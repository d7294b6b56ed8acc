// The resume buffer of a detached session (pure): bounded in messages and in UTF-8 bytes.
import { expect } from 'chai';
import { ResumeBuffer } from '../../src/sessions/resume-buffer.js';

describe('ResumeBuffer', function () {
  it('keeps lines in order until taken, counting UTF-8 bytes', function () {
    const buffer = new ResumeBuffer(10, 1000);
    expect(buffer.push('a')).to.equal(undefined);
    expect(buffer.push('é€')).to.equal(undefined);
    expect(buffer.size).to.equal(2);
    expect(buffer.bytes).to.equal(1 + 2 + 3);
    expect(buffer.take()).to.deep.equal(['a', 'é€']);
    expect(buffer.size).to.equal(0);
    expect(buffer.bytes).to.equal(0);
  });

  it('reports the byte bound at the first line past it, whatever the message count', function () {
    const buffer = new ResumeBuffer(1000, 3 * 1024 * 1024);
    const MiB = 'x'.repeat(1024 * 1024);
    for (let i = 0; i < 3; i++) expect(buffer.push(MiB), `line ${i}`).to.equal(undefined);
    expect(buffer.push(MiB)).to.equal('max_resume_buffer_bytes');
  });

  it('reports the message bound past resume_buffer_messages', function () {
    const buffer = new ResumeBuffer(2, 1 << 30);
    buffer.push('1');
    buffer.push('2');
    expect(buffer.push('3')).to.equal('resume_buffer_messages');
  });
});
