using O2X.Actors.Messaging.Bindings;
using O2X.Actors.Messaging;

namespace O2X.Actors.Tests;

public class ExceptionPolicyTests
{
    [Fact]
    public void Unknown_exceptions_are_retried_by_default_and_the_seeds_two_kinds_keep_their_meaning()
    {
        var policy = ExceptionPolicy.Default;

        policy.IsRetryable(new InvalidOperationException()).Should().BeTrue();
        policy.IsRetryable(new RetryableException("db down")).Should().BeTrue();
        policy.IsRetryable(new NonRetryableException("X", "bad")).Should().BeFalse();
    }

    [Theory]
    [InlineData(typeof(FormatException))]
    [InlineData(typeof(OverflowException))]
    [InlineData(typeof(ArgumentOutOfRangeException))]
    [InlineData(typeof(UnauthorizedAccessException))]
    [InlineData(typeof(System.Text.Json.JsonException))]
    [InlineData(typeof(InvalidDataException))]
    public void A_message_defect_is_not_retried_by_default_since_no_retry_cures_it(Type defect)
    {
        var exception = (Exception)Activator.CreateInstance(defect)!;

        ExceptionPolicy.Default.IsRetryable(exception).Should().BeFalse();
        (ExceptionPolicy.Default with { Retryable = [defect.FullName!] }).IsRetryable(exception).Should().BeTrue("a binding may still choose to retry it");
    }

    [Fact]
    public void Only_dependency_failures_count_towards_a_breaker()
    {
        BindingCircuitBreaker.IsDependencyFailure(new RetryableException("journal write failed")).Should().BeTrue();
        BindingCircuitBreaker.IsDependencyFailure(new TimeoutException()).Should().BeTrue();
        BindingCircuitBreaker.IsDependencyFailure(new IOException("connection reset")).Should().BeTrue();
        BindingCircuitBreaker.IsDependencyFailure(new System.Net.Sockets.SocketException()).Should().BeTrue();
        BindingCircuitBreaker.IsDependencyFailure(new RetryableException("file not there yet", dependencyFailure: false)).Should().BeFalse();
        BindingCircuitBreaker.IsDependencyFailure(new FileNotFoundException()).Should().BeFalse();
        BindingCircuitBreaker.IsDependencyFailure(new InvalidOperationException("a bug")).Should().BeFalse();
        BindingCircuitBreaker.IsDependencyFailure(new OverflowException()).Should().BeFalse();
    }

    [Fact]
    public void A_binding_can_name_exceptions_not_worth_retrying_including_their_subclasses()
    {
        var policy = ExceptionPolicy.Default with { NonRetryable = ["System.ArgumentException"] };

        policy.IsRetryable(new ArgumentNullException("x")).Should().BeFalse("ArgumentNullException is an ArgumentException");
        policy.IsRetryable(new TimeoutException()).Should().BeTrue();
        OutcomeClassifier.FromException(new ArgumentException("bad"), policy).Should()
            .BeOfType<HandlingOutcome.Rejected>().Which.ErrorCode.Should().Be(ExceptionPolicy.HandlerErrorCode);
    }

    [Fact]
    public void A_binding_can_retry_only_what_it_names()
    {
        var policy = new ExceptionPolicy { RetryUnknownExceptions = false, Retryable = ["System.TimeoutException"] };

        policy.IsRetryable(new TimeoutException()).Should().BeTrue();
        policy.IsRetryable(new InvalidOperationException()).Should().BeFalse();
    }
}
