using BareLb.Membership.Protocol;
using BareLb.Membership.Tests.Support;
using BareLb.Membership.Wire;

namespace BareLb.Membership.Tests.Protocol;

/// <summary>Node "a" alone on a hand-driven clock; the tests play the other members packet by packet.</summary>
public sealed class MembershipProtocolTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(5);

    // ---- probing -------------------------------------------------------------------------------------------

    [Fact]
    public void Probe_NoAnswer_PingThenHelpersAndRepingsThenSuspect()
    {
        using var h = new ProtocolHarness(["b", "c"]);
        h.Start("b", "c");
        var (target, helper, t0) = NextProbe(h);

        var timeline = new List<(TimeSpan At, string To, MessageType Type)>();
        h.RunUntil(() =>
        {
            foreach (var p in h.TakeSent())
            {
                AnswerIfPing(h, p, helper);
                foreach (var m in p.Messages)
                {
                    timeline.Add((h.Elapsed(t0), p.To, m.Type == MessageType.Rumor && m.State == MemberState.Suspect ? (MessageType)99 : m.Type));
                }
            }
            return h.Protocol.StateOf(target) == MemberState.Suspect;
        }, TimeSpan.FromSeconds(1), "target suspected");

        Assert.Equal(TimeSpan.FromMilliseconds(80), h.Elapsed(t0));
        Assert.Contains((TimeSpan.FromMilliseconds(20), target, MessageType.Ping), timeline);
        Assert.Contains((TimeSpan.FromMilliseconds(20), helper, MessageType.PingReq), timeline);
        Assert.Contains((TimeSpan.FromMilliseconds(40), target, MessageType.Ping), timeline);
        Assert.Equal(2, timeline.Count(e => e.To == target && e.Type == MessageType.Ping && e.At < TimeSpan.FromMilliseconds(80))); // after the first
        Assert.Equal(1, h.Protocol.Counters.FailedProbes);
        Assert.Equal(1, h.Protocol.Counters.Suspicions);

        // The suspicion is pushed at once to the helper and to the suspect itself (so it can refute).
        var pushed = timeline.Where(e => e.Type == (MessageType)99 && e.At == TimeSpan.FromMilliseconds(80)).Select(e => e.To).Distinct().Order();
        Assert.Equal(new[] { helper, target }.Order(), pushed);
    }

    [Fact]
    public void Probe_DirectAckLost_HelperRelaysAck_NoSuspicion()
    {
        using var h = new ProtocolHarness(["b", "c"]);
        h.Start("b", "c");
        var (target, helper, t0) = NextProbe(h);

        h.Run(TimeSpan.FromMilliseconds(20));
        var pingReq = h.TakeSent().Single(p => p.To == helper && p.Has(MessageType.PingReq)).Single(MessageType.PingReq);
        Assert.Equal(target, pingReq.Name);
        h.Deliver(helper, TestMessage.Ack(pingReq.Nonce));
        h.Run(TimeSpan.FromMilliseconds(200), () => AnswerPings(h, helper, target));

        Assert.Equal(MemberState.Alive, h.Protocol.StateOf(target));
        Assert.Equal(0, h.Protocol.Counters.FailedProbes);
        Assert.Equal(0, h.Protocol.Counters.Suspicions);
        Assert.Equal(1, h.Protocol.Counters.IndirectProbes);
        _ = t0;
    }

    [Fact]
    public void Probe_AckFromNonHelper_DoesNotCount()
    {
        using var h = new ProtocolHarness(["b", "c", "d"], new MembershipOptions { IndirectProbes = 1 });
        h.Start("b", "c", "d");
        var (target, _, _) = NextProbe(h);
        h.Run(TimeSpan.FromMilliseconds(20));
        var sent = h.TakeSent();
        var pingReq = sent.Single(p => p.Has(MessageType.PingReq));
        var outsider = new[] { "b", "c", "d" }.Single(n => n != target && n != pingReq.To);

        h.Deliver(outsider, TestMessage.Ack(pingReq.Single(MessageType.PingReq).Nonce));
        h.Run(TimeSpan.FromMilliseconds(60), () => AnswerPings(h, pingReq.To, outsider));

        Assert.Equal(MemberState.Suspect, h.Protocol.StateOf(target));
    }

    [Fact]
    public void Relay_PingReq_PingsTargetAndForwardsAckWithOriginNonce()
    {
        using var h = new ProtocolHarness(["b", "c"]);
        h.Start("b", "c");

        h.Deliver("b", TestMessage.PingReq(77, "c"));
        var ping = h.TakeSent().Single(p => p.To == "c").Single(MessageType.Ping);
        Assert.NotEqual(77UL, ping.Nonce);
        h.Deliver("c", TestMessage.Ack(ping.Nonce));

        var forwarded = h.TakeSent().Single(p => p.To == "b");
        Assert.Equal(TestMessage.Ack(77), forwarded.Single(MessageType.Ack));
    }

    [Fact]
    public void Relay_TargetSilent_RepingsThenNacksBeforeOriginGivesUp()
    {
        using var h = new ProtocolHarness(["b", "c"]);
        h.Start("b", "c");
        var t0 = h.Now;

        h.Deliver("b", TestMessage.PingReq(78, "c"));
        var events = new List<(TimeSpan, string, MessageType)>();
        h.Run(TimeSpan.FromMilliseconds(60), () =>
        {
            foreach (var p in h.TakeSent())
            {
                foreach (var m in p.Messages.Where(m => m.Type != MessageType.Rumor && (m.Type != MessageType.Ping || p.To == "c")))
                {
                    events.Add((h.Elapsed(t0), p.To, m.Type));
                }
            }
        });

        // Re-ping at the direct timeout; the Nack at 4/5 of (probe timeout - direct timeout) = 48 ms, on the 50 ms tick.
        Assert.Contains((TimeSpan.FromMilliseconds(20), "c", MessageType.Ping), events);
        Assert.Contains((TimeSpan.FromMilliseconds(50), "b", MessageType.Nack), events);
    }

    [Fact]
    public void Probe_HelperNacks_LocalHealthUnchanged_SilentHelper_HealthRaised()
    {
        foreach (var nack in new[] { true, false })
        {
            using var h = new ProtocolHarness(["b", "c"], new MembershipOptions { IndirectProbes = 1 });
            h.Start("b", "c");
            var (target, helper, _) = NextProbe(h);
            h.RunUntil(() =>
            {
                foreach (var p in h.TakeSent())
                {
                    AnswerIfPing(h, p, helper);
                    if (nack && p.To == helper && p.Has(MessageType.PingReq))
                    {
                        h.Deliver(helper, TestMessage.Nack(p.Single(MessageType.PingReq).Nonce));
                    }
                }
                return h.Protocol.StateOf(target) == MemberState.Suspect;
            }, TimeSpan.FromSeconds(1), "suspected");

            Assert.Equal(nack ? 0 : 1, h.Protocol.LocalHealth);
        }
    }

    [Fact]
    public void Tick_Late_ShiftsDeadlinesInsteadOfFailingProbe()
    {
        using var h = new ProtocolHarness(["b", "c"]);
        h.Start("b", "c");
        var (target, _, t0) = NextProbe(h);

        // This process was not scheduled for half a second; the Ack has been waiting in the socket meanwhile.
        h.TickAt(t0 + ProtocolHarness.Ticks(TimeSpan.FromMilliseconds(500)));
        Assert.Empty(h.TakeSent()); // no helpers asked, no suspicion: the lost time is not the target's
        Assert.Equal(1, h.Protocol.Counters.LateTicks);
        Assert.Equal(1, h.Protocol.LocalHealth);

        var ping = PendingPingNonce(h, target);
        h.Deliver(target, TestMessage.Ack(ping));
        h.Run(TimeSpan.FromMilliseconds(200), () => AnswerPings(h, "b", "c"));

        Assert.Equal(MemberState.Alive, h.Protocol.StateOf(target));
        Assert.Equal(0, h.Protocol.Counters.FailedProbes);
        Assert.DoesNotContain(h.Changes, c => c.Current == MemberState.Suspect);
    }

    [Fact]
    public void Tick_ChoosesMemberHeardFromLeastRecently()
    {
        using var h = new ProtocolHarness(["b", "c", "d"]);
        h.Start("b", "c", "d");
        h.Run(TimeSpan.FromMilliseconds(5));
        h.Deliver("b", TestMessage.Ping(1));
        h.Deliver("d", TestMessage.Ping(2));
        h.TakeSent();

        var (target, _, _) = NextProbe(h);

        Assert.Equal("c", target);
    }

    // ---- suspicion -----------------------------------------------------------------------------------------

    [Theory]
    [InlineData(false, 600)]
    [InlineData(true, 100)]
    public void Suspicion_ConfirmedByOtherMember_ShortensToMinimum(bool confirmed, int expectedMs)
    {
        using var h = new ProtocolHarness(["b", "c"]);
        h.Start("b", "c");
        SuspectByFailedProbe(h, "c", helper: "b");
        var suspectedAt = h.Now;
        if (confirmed)
        {
            h.Run(TimeSpan.FromMilliseconds(30), () => AnswerPings(h, "b"));
            h.Deliver("b", TestMessage.Rumor(MemberState.Suspect, "c", 100, 0, "b"));
        }

        h.RunUntil(() => { AnswerPings(h, "b"); return h.Protocol.StateOf("c") == MemberState.Dead; }, TimeSpan.FromSeconds(2), "c dead");

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), h.Elapsed(suspectedAt));
        Assert.Equal(1, h.Protocol.Counters.DeathsDeclared);
    }

    [Fact]
    public void Suspicion_Declared_DeadPushedToLiveMembersAndSubject()
    {
        using var h = new ProtocolHarness(["b", "c", "d"]);
        h.Start("b", "c", "d");
        h.Deliver("b", TestMessage.Rumor(MemberState.Suspect, "c", 100, 0, "b"));
        h.Deliver("d", TestMessage.Rumor(MemberState.Suspect, "c", 100, 0, "d"));
        h.TakeSent();

        h.RunUntil(() => h.Protocol.StateOf("c") == MemberState.Dead, TimeSpan.FromSeconds(1), "c dead");

        var pushedTo = h.TakeSent().Where(p => p.Rumors.Any(r => r is { State: MemberState.Dead, Name: "c" })).Select(p => p.To).Distinct().Order();
        Assert.Equal(["b", "c", "d"], pushedTo);
        Assert.Equal(["a", "b", "d"], h.Protocol.AliveNames().Order());
    }

    [Fact]
    public void Receive_SuspicionFromOtherMember_VerifiesAtOnceWithRumorToSubject()
    {
        using var h = new ProtocolHarness(["b", "c", "d"]);
        h.Start("b", "c", "d");

        h.Deliver("b", TestMessage.Rumor(MemberState.Suspect, "c", 100, 0, "b"));
        h.Run(Tick);

        var toC = h.TakeSent().Single(p => p.To == "c" && p.Has(MessageType.Ping));
        Assert.Contains(TestMessage.Rumor(MemberState.Suspect, "c", 100, 0, "b"), toC.Rumors);
        Assert.Equal(MemberState.Suspect, h.Protocol.StateOf("c"));
        Assert.Contains("c", h.Protocol.AliveNames()); // a suspect still counts as alive
    }

    [Fact]
    public void Receive_RefutationFromSuspect_BackToAlive()
    {
        using var h = new ProtocolHarness(["b", "c"]);
        h.Start("b", "c");
        h.Deliver("b", TestMessage.Rumor(MemberState.Suspect, "c", 100, 0, "b"));

        h.Incarnations["c"] = 1;
        h.Deliver("c", TestMessage.Rumor(MemberState.Alive, "c", 100, 1));

        Assert.Equal(MemberState.Alive, h.Protocol.StateOf("c"));
        Assert.Equal(1U, h.Protocol.Find("c")!.Incarnation);
        h.Run(TimeSpan.FromSeconds(1), () => AnswerPings(h, "b", "c"));
        Assert.DoesNotContain(h.Changes, c => c.Current == MemberState.Dead);
    }

    [Fact]
    public void Receive_SuspicionOfOlderIncarnation_Ignored()
    {
        using var h = new ProtocolHarness(["b", "c"]);
        h.Incarnations["c"] = 3;
        h.Start("b", "c");
        Assert.Equal(3U, h.Protocol.Find("c")!.Incarnation);

        h.Deliver("b", TestMessage.Rumor(MemberState.Suspect, "c", 100, 2, "b"));

        Assert.Equal(MemberState.Alive, h.Protocol.StateOf("c"));
    }

    [Theory]
    [InlineData(MemberState.Suspect)]
    [InlineData(MemberState.Dead)]
    [InlineData(MemberState.Left)]
    public void Receive_BadRumorAboutSelf_RefutesWithHigherIncarnationPushedToAll(MemberState state)
    {
        using var h = new ProtocolHarness(["b", "c"]);
        h.Start("b", "c");

        h.Deliver("b", TestMessage.Rumor(state, "a", ProtocolHarness.SelfBoot, 0, state == MemberState.Suspect ? "b" : ""));

        Assert.Equal(1U, h.Protocol.Incarnation);
        Assert.Equal(1, h.Protocol.Counters.Refutations);
        var refuted = h.TakeSent().Where(p => p.Rumors.Contains(TestMessage.Rumor(MemberState.Alive, "a", ProtocolHarness.SelfBoot, 1))).ToList();
        Assert.Equal(["b", "c"], refuted.Select(p => p.To).Order());
        Assert.All(refuted, p => Assert.Equal(1U, p.Incarnation));
    }

    [Fact]
    public void Receive_RumorAboutOlderSelf_NoRefutation()
    {
        using var h = new ProtocolHarness(["b", "c"]);
        h.Start("b", "c");

        h.Deliver("b", TestMessage.Rumor(MemberState.Dead, "a", ProtocolHarness.SelfBoot - 1, 9));

        Assert.Equal(0U, h.Protocol.Incarnation);
        Assert.Equal(0, h.Protocol.Counters.Refutations);
    }

    [Fact]
    public void SuspicionTimeoutFor_Confirmations_LifeguardCurve()
    {
        const long min = 100, max = 600;
        Assert.Equal(max, MembershipProtocol.SuspicionTimeoutFor(0, 3, min, max));
        Assert.Equal(350, MembershipProtocol.SuspicionTimeoutFor(1, 3, min, max)); // 600 - 500 * log 2 / log 4
        Assert.Equal(204, MembershipProtocol.SuspicionTimeoutFor(2, 3, min, max)); // 600 - 500 * log 3 / log 4 = 600 - 396.2
        Assert.Equal(min, MembershipProtocol.SuspicionTimeoutFor(3, 3, min, max));
        Assert.Equal(min, MembershipProtocol.SuspicionTimeoutFor(9, 3, min, max));
        Assert.Equal(min, MembershipProtocol.SuspicionTimeoutFor(1, 1, min, max)); // three nodes: one confirmation is all there can be
        Assert.Equal(max, MembershipProtocol.SuspicionTimeoutFor(0, 0, min, max)); // two nodes: nobody can confirm
    }

    // ---- trust -----------------------------------------------------------------------------------------------

    [Fact]
    public void Receive_WrongKey_DroppedAndCounted()
    {
        using var h = new ProtocolHarness(["b", "c"]);
        h.Start("b", "c");

        h.Deliver("b", "a", TestPackets.OtherKey, TestMessage.Ping(1), TestMessage.Rumor(MemberState.Dead, "c", 100, 5));

        Assert.Equal(1, h.Protocol.Counters.AuthFailures);
        Assert.Empty(h.TakeSent());
        Assert.Equal(MemberState.Alive, h.Protocol.StateOf("c"));
    }

    [Fact]
    public void Receive_PacketAddressedToOtherMember_DroppedAsAuthFailure()
    {
        using var h = new ProtocolHarness(["b", "c"]);
        h.Start("b", "c");

        h.Deliver("b", "c", TestPackets.Key, TestMessage.Ping(1));

        Assert.Equal(1, h.Protocol.Counters.AuthFailures);
        Assert.Empty(h.TakeSent());
    }

    [Fact]
    public void Receive_SamePacketTwice_SecondDroppedAsReplay()
    {
        using var h = new ProtocolHarness(["b", "c"]);
        h.Start("b", "c");
        var packet = h.Build("b", "a", TestPackets.Key, TestMessage.Ping(1));

        h.DeliverRaw(packet);
        h.DeliverRaw(packet);

        Assert.Equal(1, h.Protocol.Counters.Replays);
        Assert.Single(h.TakeSent(), p => p.Has(MessageType.Ack));
    }

    [Fact]
    public void Receive_PacketFromOlderBoot_DroppedAsReplay()
    {
        using var h = new ProtocolHarness(["b", "c"]);
        h.Start("b", "c");
        h.Boots["b"] = 99;

        h.Deliver("b", TestMessage.Ping(1));

        Assert.Equal(1, h.Protocol.Counters.Replays);
        Assert.Empty(h.TakeSent());
    }

    [Fact]
    public void Receive_GarbageAndUnknownSender_CountedSeparately()
    {
        using var h = new ProtocolHarness(["b", "c"]);
        h.Start("b", "c");

        h.DeliverRaw([0x42, 0x4D, 1, 0, 1, 2, 3]);
        h.Deliver("mallory", TestMessage.Ping(1));

        Assert.Equal(1, h.Protocol.Counters.Malformed);
        Assert.Equal(1, h.Protocol.Counters.UnknownSenders);
        Assert.Empty(h.TakeSent());
    }

    [Fact]
    public void Receive_UnknownPeerClaimsAlive_AliveOnlyAfterAckToOurNonce()
    {
        using var h = new ProtocolHarness(["b", "c"]);
        h.Start("b");
        h.Run(TimeSpan.FromMilliseconds(100), () => AnswerPings(h, "b")); // c's join ping went unanswered

        h.Deliver("c", TestMessage.Rumor(MemberState.Alive, "c", 100, 0), TestMessage.Ping(9));

        Assert.Equal(MemberState.Unknown, h.Protocol.StateOf("c"));
        var toC = h.TakeSent().Where(p => p.To == "c").ToList();
        Assert.Contains(toC, p => p.Messages.Contains(TestMessage.Ack(9)));
        var probe = toC.Single(p => p.Has(MessageType.Ping)).Single(MessageType.Ping);

        h.Deliver("c", TestMessage.Ack(probe.Nonce + 1)); // not our nonce
        Assert.Equal(MemberState.Unknown, h.Protocol.StateOf("c"));
        h.Deliver("c", TestMessage.Ack(probe.Nonce));
        Assert.Equal(MemberState.Alive, h.Protocol.StateOf("c"));
    }

    // ---- death, rejoin, leave --------------------------------------------------------------------------------

    [Fact]
    public void Rejoin_DeadMemberRefutes_RevivedByAckWithHigherIncarnation()
    {
        using var h = new ProtocolHarness(["b", "c"]);
        h.Start("b", "c");
        h.Deliver("b", TestMessage.Rumor(MemberState.Dead, "c", 100, 0));
        Assert.Equal(MemberState.Dead, h.Protocol.StateOf("c"));
        h.TakeSent();

        // c, cut off meanwhile, talks again: still at the incarnation it was declared dead with.
        h.Deliver("c", TestMessage.Ping(1));
        var toC = h.TakeSent().Where(p => p.To == "c").ToList();
        Assert.All(toC, p => Assert.Contains(TestMessage.Rumor(MemberState.Dead, "c", 100, 0), p.Rumors)); // tell the subject
        var probe = toC.Single(p => p.Has(MessageType.Ping)).Single(MessageType.Ping);
        h.Deliver("c", TestMessage.Ack(probe.Nonce));
        Assert.Equal(MemberState.Dead, h.Protocol.StateOf("c")); // same version: not back yet

        // c refutes (incarnation 1) and answers our next probe with it.
        h.Incarnations["c"] = 1;
        h.Deliver("c", TestMessage.Rumor(MemberState.Alive, "c", 100, 1));
        Assert.Equal(MemberState.Dead, h.Protocol.StateOf("c")); // its own word is not enough
        var second = h.TakeSent().Single(p => p.To == "c" && p.Has(MessageType.Ping)).Single(MessageType.Ping);
        h.Deliver("c", TestMessage.Ack(second.Nonce));

        Assert.Equal(MemberState.Alive, h.Protocol.StateOf("c"));
        Assert.Equal(1U, h.Protocol.Find("c")!.Incarnation);
    }

    [Fact]
    public void Rejoin_RestartedMember_NewBootRevives()
    {
        using var h = new ProtocolHarness(["b", "c"]);
        h.Start("b", "c");
        h.Deliver("b", TestMessage.Rumor(MemberState.Dead, "c", 100, 4));
        h.TakeSent();

        h.Boots["c"] = 200;
        h.Deliver("c", TestMessage.Ping(1));
        var probe = h.TakeSent().Single(p => p.To == "c" && p.Has(MessageType.Ping)).Single(MessageType.Ping);
        h.Deliver("c", TestMessage.Ack(probe.Nonce));

        Assert.Equal(MemberState.Alive, h.Protocol.StateOf("c"));
        Assert.Equal((200UL, 0U), (h.Protocol.Find("c")!.Boot, h.Protocol.Find("c")!.Incarnation));
        Assert.Equal([(MemberState.Alive, MemberState.Dead), (MemberState.Dead, MemberState.Alive)], h.Changes.Select(c => (c.Previous, c.Current)));
    }

    [Fact]
    public void Receive_LeftFromMemberItself_LeftAtOnce()
    {
        using var h = new ProtocolHarness(["b", "c"]);
        h.Start("b", "c");

        h.Deliver("c", TestMessage.Rumor(MemberState.Left, "c", 100, 0));

        Assert.Equal(MemberState.Left, h.Protocol.StateOf("c"));
        Assert.Equal(["a", "b"], h.Protocol.AliveNames().Order());
        h.Deliver("c", TestMessage.Rumor(MemberState.Left, "c", 100, 0)); // its repeats
        Assert.DoesNotContain(h.TakeSent(), p => p.To == "c"); // nothing more sent to it
    }

    [Fact]
    public void Leave_SendsGoodbyeToEveryPeerRepeatedlyThenCompletes()
    {
        using var h = new ProtocolHarness(["b", "c", "d"]);
        h.Start("b", "c");
        var t0 = h.Now;

        h.Protocol.Leave(h.Now);
        h.TickAt(h.Now); // collect
        var goodbyes = new List<(TimeSpan, string)>();
        void Collect()
        {
            foreach (var p in h.TakeSent())
            {
                Assert.Equal([TestMessage.Rumor(MemberState.Left, "a", ProtocolHarness.SelfBoot, 0)], p.Messages.Where(m => m.Name == "a"));
                Assert.False(p.Has(MessageType.Ping));
                goodbyes.Add((h.Elapsed(t0), p.To));
            }
        }
        Collect();
        h.Run(TimeSpan.FromMilliseconds(100), Collect);

        var expected = new[] { 0, 20, 40 }.SelectMany(ms => new[] { "b", "c", "d" }.Select(n => (TimeSpan.FromMilliseconds(ms), n)));
        Assert.Equal(expected.Order(), goodbyes.Order());
        Assert.True(h.Protocol.LeaveComplete);
        Assert.DoesNotContain("a", h.Protocol.AliveNames());
    }

    // ---- peers and gossip ------------------------------------------------------------------------------------

    [Fact]
    public void SetPeers_RemovedForgottenAddedPingedEndpointUpdated()
    {
        using var h = new ProtocolHarness(["b", "c"]);
        h.Start("b", "c");

        var newC = new System.Net.IPEndPoint(System.Net.IPAddress.Parse("203.0.113.9"), 7000);
        h.Protocol.SetPeers([new Peer("c", newC), new Peer("d", new System.Net.IPEndPoint(System.Net.IPAddress.Parse("198.51.100.40"), 7946)), new Peer("a", newC)], h.Now);
        h.Run(Tick);

        Assert.Equal(MemberState.Unknown, h.Protocol.StateOf("b"));
        Assert.Contains(h.Changes, c => c is { Member: "b", Previous: MemberState.Alive, Current: MemberState.Unknown });
        Assert.Equal(["a", "c"], h.Protocol.AliveNames().Order());
        Assert.Contains(h.TakeSent(), p => p.To == "d" && p.Has(MessageType.Ping));
        Assert.Equal(newC, h.Protocol.Find("c")!.EndPoint);
        Assert.Null(h.Protocol.Find("a")); // its own name in the list is not a peer
    }

    [Fact]
    public void Gossip_LearnedRumor_PiggybackedBoundedNumberOfTimes()
    {
        using var h = new ProtocolHarness(["b", "c", "d", "e"]);
        h.Start("b", "c", "d", "e");
        h.Deliver("b", TestMessage.Rumor(MemberState.Dead, "e", 100, 0));

        var carried = 0;
        h.Run(TimeSpan.FromSeconds(5), () =>
        {
            foreach (var p in h.TakeSent())
            {
                carried += p.Rumors.Count(r => r is { Name: "e", State: MemberState.Dead } && p.To != "e");
                AnswerIfPing(h, p, "b", "c", "d");
            }
        });

        // 4 x ceil(log2(4 alive + 1)) = 12 piggybacks; none are pushes since "a" did not originate it.
        Assert.Equal(12, carried);
    }

    [Fact]
    public void Send_ManyRumors_PacketsStayWithinMaxSize()
    {
        var names = Enumerable.Range(0, 60).Select(i => $"node-with-a-long-name-{i:D3}.rack-17.example.internal").ToArray();
        using var h = new ProtocolHarness(names);
        h.Start(names);
        foreach (var n in names.Skip(1))
        {
            h.Deliver(names[0], TestMessage.Rumor(MemberState.Suspect, n, 100, 0, names[0]));
        }

        h.Run(TimeSpan.FromMilliseconds(100)); // the harness asserts every packet is <= MaxPacketSize and authenticates
        Assert.NotEmpty(h.TakeSent());
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    /// <summary>Runs until "a" starts its next scheduled probe; returns the target, another member, and the start time.</summary>
    private static (string Target, string Other, long Start) NextProbe(ProtocolHarness h)
    {
        var peers = h.Protocol.AliveNames().Where(n => n != "a").ToArray();
        while (true)
        {
            h.Run(Tick);
            var ping = h.TakeSent().FirstOrDefault(p => p.Has(MessageType.Ping));
            if (ping is not null)
            {
                h.PendingPings[ping.To] = ping.Single(MessageType.Ping).Nonce;
                return (ping.To, peers.First(p => p != ping.To), h.Now);
            }
        }
    }

    private static ulong PendingPingNonce(ProtocolHarness h, string target) => h.PendingPings[target];

    private static void SuspectByFailedProbe(ProtocolHarness h, string target, string helper)
    {
        h.RunUntil(() =>
        {
            foreach (var p in h.TakeSent())
            {
                AnswerIfPing(h, p, helper);
            }
            return h.Protocol.StateOf(target) == MemberState.Suspect;
        }, TimeSpan.FromSeconds(2), $"{target} suspected");
    }

    private static void AnswerPings(ProtocolHarness h, params string[] members)
    {
        foreach (var p in h.TakeSent())
        {
            AnswerIfPing(h, p, members);
        }
    }

    private static void AnswerIfPing(ProtocolHarness h, SentPacket p, params string[] members)
    {
        if (members.Contains(p.To) && p.Messages.FirstOrDefault(m => m.Type == MessageType.Ping) is { } ping)
        {
            h.Deliver(p.To, TestMessage.Ack(ping.Nonce));
        }
    }
}
